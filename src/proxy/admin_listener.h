// AdminListener: the operator's port (/healthz, /readyz, /config, /metrics and the admin APIs features
// register), served on the control thread, plain or HTTPS (mTLS when the TLS settings ask for client
// certificates). It reads worker state only by asking each worker's thread for a copy; it never touches the
// data path. It keeps one spare descriptor so that it still answers (one connection at a time) while the
// process is out of descriptors.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/message.h"
#include "proxy/accept_errors.h"
#include "proxy/handshake_refusals.h"
#include "tls/server_context.h"

namespace tollway::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct AdminRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;  // without '?', "" when none
  const http::RequestHead* head = nullptr;
  std::string body;  // the request's content (Content-Length or chunked), up to 1 MiB
  // The client certificate of a TLS connection when one was sent and verified against the listener's client CAs;
  // null otherwise. Valid only during the handler's call.
  X509* peer_certificate = nullptr;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// How long a connection may wait for its next request, take to send a head, and take to send a body.
struct AdminTimeouts {
  std::chrono::milliseconds idle{75'000};
  std::chrono::milliseconds header_read{10'000};
  std::chrono::milliseconds body_read{60'000};
};

// Answers one request; runs on the control thread.
using AdminHandler = std::function<asio::awaitable<AdminResponse>(const AdminRequest&)>;

class AdminListener {
 public:
  // Binds and listens at once (this process alone); throws http::ListenError.
  AdminListener(asio::io_context& context, const tcp::endpoint& endpoint, AdminTimeouts timeouts,
                AdminHandler handler);
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  // The TLS new connections handshake with, within timeouts.header_read (null: plain); open connections keep
  // theirs.
  void use_tls(std::shared_ptr<const tls::ServerTls> tls);
  // TLS handshakes that failed, were refused or timed out, since the start.
  const HandshakeRefusals& handshake_refusals() const { return handshake_refusals_; }
  // Failed accepts, since the start, by reason.
  const AcceptErrors& accept_errors() const { return accept_errors_; }
  void start();
  void stop();

 private:
  asio::awaitable<void> accept_loop();
  // `on_spare`: the connection holds the spare descriptor; it answers one request and closes, so that the
  // spare serves the next operator's connection.
  asio::awaitable<void> serve(tcp::socket socket, bool on_spare);
  // Out of descriptors: frees the spare one and accepts with it. False when there is no spare or nothing to
  // accept.
  bool accept_with_spare();

  asio::io_context& context_;
  tcp::acceptor acceptor_;
  AdminTimeouts timeouts_;
  AdminHandler handler_;
  std::shared_ptr<const tls::ServerTls> tls_;
  HandshakeRefusals handshake_refusals_{"admin"};
  AcceptErrors accept_errors_{"admin"};
  // The spare descriptor (of /dev/null); shared with the connections it is lent to, which may be destroyed
  // after the listener (with the control context).
  struct SpareDescriptor {
    int fd = -1;  // -1 while lent to a connection or while none could be reopened yet
    SpareDescriptor();
    ~SpareDescriptor();
    void retake();
  };
  std::shared_ptr<SpareDescriptor> spare_ = std::make_shared<SpareDescriptor>();
};

}  // namespace tollway::proxy
