// A byte stream over TCP, plain or TLS — client side (SNI and certificate verification) or server side (the
// listener's context, client certificates as it asks) — with coroutine reads and gathered writes that report
// errors as codes instead of throwing. It never buffers or parses.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <memory>
#include <span>
#include <string>

namespace tollway::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
  // TLS over a connected socket when `tls_context` is set (plain otherwise); handshake() (client) or
  // accept_handshake() (server) must succeed before use.
  Stream(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls_context);

  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Verifies the peer's certificate chain, and its name against `host` sent as SNI (not for IP literals, per RFC
  // 6066); an empty `host` checks the chain alone (the caller then checks the peer's identity itself).
  asio::awaitable<error_code> handshake(const std::string& host);
  // Server side: answers the client's handshake with this stream's context (a plain stream: nothing to do).
  // Bounded by the caller's deadline through cancel().
  asio::awaitable<error_code> accept_handshake();

  // Reads and writes hand back the socket operation's own awaitable (no coroutine frame of their own): the
  // buffers and `ec` must outlive the co_await, as they do when the caller awaits at once.
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec);
  asio::awaitable<std::size_t> write(std::span<const asio::const_buffer> buffers, error_code& ec);
  asio::awaitable<std::size_t> write(std::string_view bytes, error_code& ec);

  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  bool is_tls() const { return tls_ != nullptr; }
  // The OpenSSL connection, for reading the peer's certificate; null for a plain stream.
  SSL* tls_handle() { return tls_ ? tls_->native_handle() : nullptr; }
  // Why an operation on this stream failed with `ec`, for errors: for a TLS stream, the certificate
  // verification result when the peer's chain or name was rejected, else OpenSSL's reason (an alert the peer
  // sent, e.g. "tlsv13 alert certificate required"); otherwise ec.message().
  std::string failure_reason(const error_code& ec);
  // Ends this side's sending (a TCP FIN) while reads go on, for a tunnel's half-close. A TLS stream has no
  // half-close without close_notify: it closes whole.
  void shutdown_send();
  // Cancels pending operations (they complete with operation_aborted); the stream stays open.
  void cancel();
  void close();

 private:
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // keeps the context alive as long as the stream
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace tollway::http
