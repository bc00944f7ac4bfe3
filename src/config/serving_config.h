// The serving settings every role's document has, whatever else it holds: listener addresses, HTTP limits and
// timeouts. Plain values; parsing them is the role's loader's job. Nothing here knows a role.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::config {

struct ListenAddress {
  std::string host;  // IP literal (v4 or v6 without brackets) or "localhost"
  uint16_t port = 0;
  std::string to_string() const;
};
// "HOST:PORT" or "[v6]:PORT"; nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

struct Limits {
  uint64_t max_request_line = 8 * 1024;
  uint64_t max_header_block = 64 * 1024;
  uint64_t max_body = 16 * 1024 * 1024;
  // Per process (every worker together); see docs/configuration.md `limits` for what an over-limit client gets.
  uint64_t max_connections = 10'000;         // downstream connections open at once
  uint64_t max_connections_per_peer = 0;     // from one peer address (IPv6: one /64); 0 = no per-peer limit
  uint64_t max_requests_in_flight = 4'096;   // requests being handled at once; more are shed with 503
};

struct Timeouts {
  using ms = std::chrono::milliseconds;
  ms header_read{10'000};
  ms body_read{60'000};
  ms idle{75'000};
  ms response_write{60'000};  // one piece of a relayed response to the client (a client that stops reading)
  ms upstream_connect{5'000};
  ms upstream_first_byte{120'000};
  // The longest silence between two reads from the provider (before the head too; Envoy's stream_idle_timeout).
  ms upstream_idle{300'000};
  ms upstream_total{900'000};
  ms drain{30'000};
};

}  // namespace tollway::config
