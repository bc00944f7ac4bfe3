// The OTLP exporter's HTTP/1.1 client: one blocking POST per call on its own connection (exports are a few per
// second at most), with one overall timeout, on the exporter thread only — never on an event loop or a request
// path. Plain http:// (a local collector); responses are parsed with the gateway's strict parser. Also gzip for
// request bodies (zlib).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::telemetry {

struct HttpPostResult {
  std::optional<int> status;  // nullopt: no HTTP response (connect error, reset, timeout, malformed)
  std::string retry_after;    // the Retry-After header's value, "" when absent
  std::string body;
  std::string error;          // what went wrong when there is no status
};

HttpPostResult http_post(const std::string& host, uint16_t port, const std::string& path,
                         std::string_view content_type, bool gzip_encoded, std::string_view body,
                         std::chrono::milliseconds timeout);

// RFC 1952 gzip of `data` (zlib, level 1: the fastest).
std::string gzip_compress(std::string_view data);

}  // namespace tollway::telemetry
