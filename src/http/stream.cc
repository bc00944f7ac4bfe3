#include "http/stream.h"

#include <openssl/err.h>

#include "tls/client_context.h"

namespace tollway::http {

Stream::Stream(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls_context)
    : socket_(socket.get_executor()),
      tls_context_(std::move(tls_context)),
      tls_(tls_context_ ? std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), *tls_context_)
                        : nullptr) {
  if (!tls_) socket_ = std::move(socket);
}

asio::awaitable<error_code> Stream::handshake(const std::string& host) {
  error_code ec;
  if (!tls_) co_return ec;
  if (!host.empty() && !tls::expect_peer_name(tls_->native_handle(), host))
    co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
  tls_->set_verify_mode(asio::ssl::verify_peer);
  co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

asio::awaitable<error_code> Stream::accept_handshake() {
  error_code ec;
  if (!tls_) co_return ec;
  co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

asio::awaitable<std::size_t> Stream::read_some(asio::mutable_buffer buffer, error_code& ec) {
  if (tls_) return tls_->async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
  return socket_.async_read_some(buffer, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<std::size_t> Stream::write(std::span<const asio::const_buffer> buffers, error_code& ec) {
  if (tls_) return asio::async_write(*tls_, buffers, asio::redirect_error(asio::use_awaitable, ec));
  return asio::async_write(socket_, buffers, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<std::size_t> Stream::write(std::string_view bytes, error_code& ec) {
  const asio::const_buffer one(bytes.data(), bytes.size());
  if (tls_) return asio::async_write(*tls_, one, asio::redirect_error(asio::use_awaitable, ec));
  return asio::async_write(socket_, one, asio::redirect_error(asio::use_awaitable, ec));
}

std::string Stream::failure_reason(const error_code& ec) {
  if (tls_) {
    if (SSL_get_verify_result(tls_->native_handle()) != X509_V_OK)
      return tls::handshake_failure_reason(tls_->native_handle());
    if (ec.category() == asio::error::get_ssl_category()) {
      if (const char* reason = ::ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) return reason;
    }
  }
  return ec.message();
}

void Stream::cancel() {
  error_code ignored;
  socket().cancel(ignored);
}

void Stream::shutdown_send() {
  if (tls_) {
    close();
    return;
  }
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void Stream::close() {
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace tollway::http
