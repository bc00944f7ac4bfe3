// OtlpClient: the OTLP exporter's HTTP/1.1 POST to the collector, on the exporter thread only (it runs its own
// event loop for the call) — never on a worker's event loop or a request path. The request goes through
// http::Client: one overall timeout covering connect, TLS handshake, send and receive, the connection kept
// between exports while the collector allows it, a request the collector closed a kept connection on sent once
// more only when nothing was answered, responses read with the strict parser and body reader.
// http:// or https:// as the collector's config says: https verifies the collector's chain (ca_file, else the
// system trust store) and its name (SNI + DNS name or IP address), and presents client_cert/client_key to an
// mTLS collector; it never sends a byte of the request before verification succeeded. Also gzip for request
// bodies (zlib), and its inverse for a receiver of them (the control plane's POST /v1/traces).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace boost::asio {
class io_context;
}
namespace tollway::http {
class Client;
}

namespace tollway::telemetry {

struct HttpPostResult {
  std::optional<int> status;  // nullopt: no HTTP response (connect or TLS error, reset, timeout, malformed)
  std::string retry_after;    // the Retry-After header's value, "" when absent
  std::string body;
  std::string error;  // what went wrong when there is no status
};

class OtlpClient {
 public:
  explicit OtlpClient(config::OtlpConfig collector);
  ~OtlpClient();
  OtlpClient(const OtlpClient&) = delete;
  OtlpClient& operator=(const OtlpClient&) = delete;

  // POSTs an OTLP/HTTP JSON `body` to `path` (the endpoint's path prefix included) at the collector, within its
  // timeout; `body` is gzip-compressed already when collector.gzip is set (it says Content-Encoding: gzip).
  HttpPostResult post(const std::string& path, std::string_view body);
  // Connections opened so far (TCP connect, and TLS handshake for https).
  uint64_t connections_opened() const;

 private:
  static constexpr uint64_t kMaxResponseBody = 1 << 20;

  const config::OtlpConfig collector_;
  std::unique_ptr<boost::asio::io_context> io_;  // runs only inside post()
  std::unique_ptr<http::Client> client_;
};

// RFC 1952 gzip of `data` (zlib, level 1: the fastest).
std::string gzip_compress(std::string_view data);
// The data of an RFC 1952 gzip stream (concatenated members too); nullopt with `error` when it is not one, or
// when its data would exceed `max_bytes` (decompression stops there: a small body cannot inflate without bound).
std::optional<std::string> gzip_decompress(std::string_view gzip, std::size_t max_bytes, std::string& error);

}  // namespace tollway::telemetry
