// The OTLP exporter's HTTP/1.1 client: one blocking POST per call on its own connection (exports are a few
// per second at most), with one overall timeout covering connect, TLS handshake, send and receive (a
// non-blocking socket and poll), on the exporter thread only — never on an event loop or a request path.
// http:// or https:// as the collector's config says: https verifies the collector's chain (ca_file, else the
// system trust store) and its name (SNI + DNS name or IP address), and presents client_cert/client_key to an
// mTLS collector; it never sends a byte of the request before verification succeeded. Responses are parsed
// with the gateway's strict parser. Also gzip for request bodies (zlib).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace tollway::telemetry {

struct HttpPostResult {
  std::optional<int> status;  // nullopt: no HTTP response (connect or TLS error, reset, timeout, malformed)
  std::string retry_after;    // the Retry-After header's value, "" when absent
  std::string body;
  std::string error;  // what went wrong when there is no status
};

// POSTs an OTLP/HTTP JSON `body` to `path` (the endpoint's path prefix included) at the collector, within its
// timeout; `body` is gzip-compressed already when collector.gzip is set (it says Content-Encoding: gzip).
HttpPostResult http_post(const config::OtlpConfig& collector, const std::string& path, std::string_view body);

// RFC 1952 gzip of `data` (zlib, level 1: the fastest).
std::string gzip_compress(std::string_view data);

}  // namespace tollway::telemetry
