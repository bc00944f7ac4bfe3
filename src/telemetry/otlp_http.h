// The OTLP exporter's HTTP/1.1 client: one blocking POST per call, with one overall timeout covering connect, TLS
// handshake, send and receive (a non-blocking socket and poll), on the exporter thread only — never on an event
// loop or a request path. The connection is kept between exports (HTTP/1.1 persistent connection) while the
// collector allows it: no TCP connect or TLS handshake per export. A kept connection the collector closed is
// noticed before use; if it closes as a request goes out, the request is sent once more on a new connection, but
// only when nothing was answered.
// http:// or https:// as the collector's config says: https verifies the collector's chain (ca_file, else the
// system trust store) and its name (SNI + DNS name or IP address), and presents client_cert/client_key to an
// mTLS collector; it never sends a byte of the request before verification succeeded. Responses are parsed
// with the gateway's strict parser. Also gzip for request bodies (zlib).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace boost::asio::ssl {
class context;
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
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  class Connection;
  using Clock = std::chrono::steady_clock;
  using TlsContext = std::shared_ptr<boost::asio::ssl::context>;  // null for plain http
  std::unique_ptr<Connection> open(const TlsContext& tls_context, Clock::time_point deadline, std::string& error);
  HttpPostResult exchange(Connection& connection, const std::string& path, std::string_view body,
                          Clock::time_point deadline, bool& keep, bool& answered);

  const config::OtlpConfig collector_;
  std::unique_ptr<Connection> idle_;  // kept between exports, or none
  uint64_t connections_opened_ = 0;
};

// RFC 1952 gzip of `data` (zlib, level 1: the fastest).
std::string gzip_compress(std::string_view data);

}  // namespace tollway::telemetry
