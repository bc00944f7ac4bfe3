#include "proxy/admin_listener.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "http/listen_socket.h"
#include "http/parser.h"
#include "http/read_body.h"
#include "http/read_buffer.h"
#include "http/serializer.h"
#include "http/stream.h"

namespace tollway::proxy {

AdminListener::AdminListener(asio::io_context& context, const tcp::endpoint& endpoint, AdminTimeouts timeouts,
                             AdminHandler handler)
    : context_(context), acceptor_(context), timeouts_(timeouts), handler_(std::move(handler)) {
  http::open_exclusive_listener(acceptor_, endpoint, "admin listener");
  // Synchronous accepts (accept_with_spare) return would_block instead of waiting.
  acceptor_.non_blocking(true);
}

AdminListener::SpareDescriptor::SpareDescriptor() {
  retake();
}

AdminListener::SpareDescriptor::~SpareDescriptor() {
  if (fd >= 0) ::close(fd);
}

void AdminListener::SpareDescriptor::retake() {
  if (fd < 0) fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void AdminListener::use_tls(std::shared_ptr<const tls::ServerTls> tls) {
  tls_ = std::move(tls);
}

void AdminListener::start() {
  asio::co_spawn(context_, accept_loop(), asio::detached);
}

void AdminListener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> AdminListener::accept_loop() {
  asio::steady_timer pause(context_);
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      if (!accept_errors_.record(ec)) continue;
      // Out of descriptors: the operator's request is answered with the spare one; without it (lent, or the
      // failure is another resource), accepting pauses instead of spinning the control thread.
      if (ec.value() == EMFILE || ec.value() == ENFILE) {
        if (accept_with_spare()) continue;
      }
      pause.expires_after(AcceptErrors::kPause);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    accept_errors_.accepted();
    // An answer's last partial segment must not wait for the peer's delayed ACK (Nagle): up to 40 ms on a large
    // answer, such as a trace list or a fleet of a thousand nodes.
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(context_, serve(std::move(socket), false), asio::detached);
  }
}

bool AdminListener::accept_with_spare() {
  spare_->retake();  // it may have been freed by a connection while a worker held the last descriptor
  if (spare_->fd < 0) return false;
  ::close(spare_->fd);
  spare_->fd = -1;
  tcp::socket socket(context_);
  boost::system::error_code ec;
  acceptor_.accept(socket, ec);
  if (ec) {
    spare_->retake();
    return false;
  }
  socket.set_option(tcp::no_delay(true), ec);
  asio::co_spawn(context_, serve(std::move(socket), true), asio::detached);
  return true;
}

asio::awaitable<void> AdminListener::serve(tcp::socket socket, bool on_spare) {
  // Destroyed last, once the connection's descriptor is closed: a spare descriptor lent to this connection (or
  // to an earlier one) is taken back while one is free.
  struct RetakeSpare {
    std::shared_ptr<SpareDescriptor> spare;
    ~RetakeSpare() { spare->retake(); }
  } retake_spare{spare_};
  // Shared with the deadline's handler, which may run after this coroutine ended.
  const auto stream = std::make_shared<http::Stream>(std::move(socket), tls_ ? tls_->context : nullptr);
  // Closes a connection that waits too long for its handshake, its next request, its head or its body: a slow
  // or silent peer holds no admin connection for longer than the gateway's own timeouts would let it hold a
  // client connection.
  asio::steady_timer deadline(context_);
  const auto expire_after = [&](std::chrono::milliseconds after) {
    deadline.expires_after(after);
    deadline.async_wait([weak = std::weak_ptr<http::Stream>(stream)](const boost::system::error_code& ec) {
      if (auto s = weak.lock(); s && !ec) s->cancel();  // aborted (ec set) when re-armed or the connection ends
    });
  };
  if (stream->is_tls()) {
    expire_after(timeouts_.header_read);
    if (const boost::system::error_code ec = co_await stream->accept_handshake(); ec) {
      // Only the deadline cancels a handshake here.
      handshake_refusals_.record(
          tls::classify_handshake_failure(stream->tls_handle(), ec, ec == asio::error::operation_aborted),
          stream->socket(), stream->failure_reason(ec));
      stream->close();
      co_return;
    }
  }
  X509* peer_certificate = nullptr;
  if (SSL* ssl = stream->tls_handle(); ssl != nullptr && SSL_get_verify_result(ssl) == X509_V_OK)
    peer_certificate = SSL_get0_peer_certificate(ssl);
  http::ReadBuffer buffer(4096);
  http::ParseLimits limits;
  while (true) {
    expire_after(buffer.data().empty() ? timeouts_.idle : timeouts_.header_read);
    http::RequestHead head;
    http::ParseError error;
    std::size_t consumed_body = 0;  // body bytes that were already in the buffer
    http::ParseStatus status;
    while ((status = http::parse_request_head(buffer.data(), limits, head, error)) ==
           http::ParseStatus::Incomplete) {
      std::size_t available;
      char* into = buffer.prepare(1024, available);
      boost::system::error_code ec;
      const std::size_t n = co_await stream->read_some(asio::buffer(into, available), ec);
      if (ec) co_return;
      if (buffer.data().empty()) expire_after(timeouts_.header_read);  // the first byte of the next request
      buffer.commit(n);
    }
    AdminResponse response;
    bool keep_alive = false;
    std::string leftover;  // bytes of the next request read along with a chunked body
    constexpr uint64_t kMaxBody = 1 << 20;
    if (status == http::ParseStatus::Error) {
      response = {error.status, "text/plain", std::string(error.message) + "\n", {}};
    } else if (head.framing == http::BodyFraming::ContentLength && head.content_length > kMaxBody) {
      response = {413, "text/plain", "admin request bodies are limited to 1 MiB\n", {}};
    } else {
      AdminRequest request;
      request.method = head.method;
      request.path = head.path();
      const auto q = head.target.find('?');
      if (q != std::string_view::npos) request.query = head.target.substr(q + 1);
      request.head = &head;
      request.peer_certificate = peer_certificate;
      expire_after(timeouts_.body_read);
      http::BodyReader reader(head, kMaxBody);
      const http::BodyReadResult body = co_await http::read_body(
          *stream, reader, buffer.data().substr(head.head_size), request.body, leftover);
      consumed_body = body.used_from_buffered;
      using Outcome = http::BodyReadResult::Outcome;
      if (body.outcome == Outcome::Closed) co_return;
      if (body.outcome == Outcome::TooLarge) {
        response = {413, "text/plain", "admin request bodies are limited to 1 MiB\n", {}};
      } else if (body.outcome == Outcome::Malformed) {
        response = {400, "text/plain", "malformed request body: " + std::string(reader.error()) + "\n", {}};
      } else {
        deadline.cancel();  // the handler's own work is not the peer's to hurry
        response = co_await handler_(request);
        keep_alive = head.keep_alive && !on_spare;
      }
    }
    std::string out;
    http::append_status_line(out, response.status, 1);
    http::append_header(out, "Content-Type", response.content_type);
    http::append_header(out, "Content-Length", std::to_string(response.body.size()));
    for (const auto& [name, value] : response.headers) http::append_header(out, name, value);
    if (!keep_alive) http::append_header(out, "Connection", "close");
    http::end_head(out);
    if (head.method != "HEAD") out += response.body;
    boost::system::error_code ec;
    expire_after(timeouts_.header_read);  // a peer that never reads its answer
    co_await stream->write(std::string_view(out), ec);
    if (ec || !keep_alive) break;
    buffer.consume(head.head_size + consumed_body);
    buffer.append(leftover);
  }
  stream->close();
}

}  // namespace tollway::proxy
