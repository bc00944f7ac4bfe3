// HandshakeRefusals: one listener's failed TLS handshakes counted by reason (tls/handshake_refusal.h), for
// tollway_tls_handshake_failures_total{listener,reason}, each also one info log line with the reason and the
// peer's address — at most kLogLinesPerSecond lines a second, the lines left out counted in the next one.
// Counts may be read from any thread; record() is called from the listener's own thread only. It never logs
// certificate content.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "tls/handshake_refusal.h"

namespace tollway::proxy {

class HandshakeRefusals {
 public:
  static constexpr int kLogLinesPerSecond = 10;

  explicit HandshakeRefusals(std::string listener) : listener_(std::move(listener)) {}

  // Counts one refusal and logs it (unless this second's lines are used up). `detail` is OpenSSL's reason.
  void record(tls::HandshakeRefusal reason, const boost::asio::ip::tcp::socket& peer,
              std::string_view detail);
  uint64_t count(tls::HandshakeRefusal reason) const {
    return counts_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }

 private:
  std::string listener_;  // the listener's name ("api", "admin", ...)
  std::array<std::atomic<uint64_t>, tls::kHandshakeRefusalCount> counts_{};
  std::chrono::steady_clock::time_point log_window_start_{};
  int lines_in_window_ = 0;
  uint64_t lines_left_out_ = 0;
};

}  // namespace tollway::proxy
