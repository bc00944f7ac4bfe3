#include "proxy/handshake_refusals.h"

#include "core/log.h"

namespace tollway::proxy {

void HandshakeRefusals::record(tls::HandshakeRefusal reason, const boost::asio::ip::tcp::socket& peer,
                               std::string_view detail) {
  counts_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (now - log_window_start_ >= std::chrono::seconds(1)) {
    log_window_start_ = now;
    lines_in_window_ = 0;
  }
  if (lines_in_window_ >= kLogLinesPerSecond) {
    ++lines_left_out_;
    return;
  }
  ++lines_in_window_;
  boost::system::error_code ec;
  const auto endpoint = peer.remote_endpoint(ec);
  json::ObjectWriter fields;
  fields.field("listener", listener_)
      .field("reason", tls::refusal_name(reason))
      .field("peer",
             ec ? std::string() : endpoint.address().to_string() + ":" + std::to_string(endpoint.port()))
      .field("detail", detail);
  if (lines_left_out_ != 0) fields.field("not_logged_before", lines_left_out_);
  lines_left_out_ = 0;
  log::info("TLS handshake refused", fields);
}

}  // namespace tollway::proxy
