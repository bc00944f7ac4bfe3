#include "http/upstream_pool.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "tls/server_context.h"

namespace tollway::http {
namespace {

std::string endpoint_name(const UpstreamEndpoint& e) {
  return std::string(e.tls ? "https://" : "http://") + e.host + ":" + std::to_string(e.port);
}

}  // namespace

bool idle_connection_alive(tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::unique_ptr<Stream> UpstreamPool::take_idle(const UpstreamEndpoint& endpoint) {
  auto it = idle_.find(endpoint.pool_key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = std::chrono::steady_clock::now();
  while (!list.empty()) {
    Idle idle = std::move(list.back());
    list.pop_back();
    // A connection used within the last second is taken as is (a syscall saved per request); the rare one
    // the origin closed meanwhile fails before any response byte and the caller retries it once.
    const auto idle_for = now - idle.since;
    if (idle_for < idle_timeout_ && (idle_for < std::chrono::seconds(1) || idle_connection_alive(idle.stream->socket()))) {
      // Ends the peek give_back started (no syscall: the reactor drops the operation; its handler sees
      // operation_aborted).
      boost::system::error_code ignored;
      idle.stream->socket().cancel(ignored);
      return std::move(idle.stream);
    }
    idle.stream->close();
  }
  return nullptr;
}

asio::awaitable<std::unique_ptr<Stream>> connect_endpoint(asio::any_io_executor executor,
                                                          const UpstreamEndpoint& endpoint,
                                                          std::chrono::milliseconds timeout,
                                                          ConnectFailure& failure) {
  using namespace asio::experimental::awaitable_operators;
  using Stage = ConnectFailure::Stage;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(executor, deadline);
  error_code ec;
  const auto fail = [&](Stage stage, bool timed_out, std::string message, std::string reason) {
    failure = ConnectFailure{stage, timed_out, std::move(message), std::move(reason)};
    return std::unique_ptr<Stream>();
  };

  tcp::resolver resolver(executor);
  tcp::resolver::results_type addresses;
  {
    auto result = co_await (resolver.async_resolve(endpoint.host, std::to_string(endpoint.port),
                                                   asio::redirect_error(asio::use_awaitable, ec)) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1)
      co_return fail(Stage::Resolve, true, "timed out resolving " + endpoint.host, "timed out");
    if (ec) co_return fail(Stage::Resolve, false, "cannot resolve " + endpoint.host + ": " + ec.message(), ec.message());
    addresses = std::get<0>(result);
  }

  tcp::socket socket(executor);
  {
    auto result = co_await (asio::async_connect(socket, addresses, asio::redirect_error(asio::use_awaitable, ec)) ||
                            timer.async_wait(asio::use_awaitable));
    if (result.index() == 1)
      co_return fail(Stage::Connect, true, "timed out connecting to " + endpoint_name(endpoint), "timed out");
    if (ec)
      co_return fail(Stage::Connect, false, "cannot connect to " + endpoint_name(endpoint) + ": " + ec.message(),
                     ec.message());
  }
  socket.set_option(tcp::no_delay(true), ec);

  std::unique_ptr<Stream> stream;
  if (endpoint.tls) {
    stream = std::make_unique<Stream>(std::move(socket), endpoint.tls_context);
    // A peer named by its SPIFFE ID is checked after the handshake, not by its host name. (Named, not a
    // temporary: GCC 12 frees temporaries of a co_await expression too early.)
    const std::string checked_name = endpoint.peer_spiffe_id.empty() ? endpoint.host : std::string();
    auto result = co_await (stream->handshake(checked_name) || timer.async_wait(asio::use_awaitable));
    if (result.index() == 1)
      co_return fail(Stage::Handshake, true, "timed out in the TLS handshake with " + endpoint_name(endpoint),
                     "timed out");
    if (const error_code hs = std::get<0>(result))
      co_return fail(Stage::Handshake, false,
                     "TLS handshake with " + endpoint_name(endpoint) + " failed: " + hs.message(),
                     stream->failure_reason(hs));
    if (!endpoint.peer_spiffe_id.empty()) {
      const tls::PeerIdentity peer = tls::identity_of(SSL_get0_peer_certificate(stream->tls_handle()));
      if (peer.spiffe_id != endpoint.peer_spiffe_id) {
        const std::string mismatch = "presented " +
                                     (peer.spiffe_id.empty() ? std::string("no SPIFFE ID") : peer.spiffe_id) +
                                     ", not " + endpoint.peer_spiffe_id;
        co_return fail(Stage::Handshake, false, endpoint_name(endpoint) + " " + mismatch,
                       endpoint_name(endpoint) + " " + mismatch);
      }
    }
  } else {
    stream = std::make_unique<Stream>(std::move(socket));
  }
  co_return stream;
}

asio::awaitable<std::unique_ptr<Stream>> UpstreamPool::connect(const UpstreamEndpoint& endpoint,
                                                              std::chrono::milliseconds timeout,
                                                              std::string& error, bool& timed_out) {
  ConnectFailure failure;
  auto stream = co_await connect_endpoint(executor_, endpoint, timeout, failure);
  timed_out = !stream && failure.timed_out;
  if (!stream) error = std::move(failure.message);
  co_return stream;
}

void UpstreamPool::give_back(const UpstreamEndpoint& endpoint, std::unique_ptr<Stream> stream) {
  auto& list = idle_[endpoint.pool_key];
  if (list.size() >= max_idle_) {
    list.front().stream->close();
    list.pop_front();
  }
  Idle& idle = list.emplace_back(Idle{std::move(stream), std::chrono::steady_clock::now(), ++last_watch_});
  // Readable while idle means the origin closed the connection (or sent bytes nobody asked for): drop it now
  // rather than when it is next taken. A peeking receive, not async_wait: Asio starts a wait with an epoll_ctl
  // each time, while a receive is only queued on the socket, already in the worker's epoll set (it reads at
  // once, one recv, only when the reactor saw the socket turn readable since its last read: a close that came
  // before the connection was back here). Taking, closing or replacing the connection cancels it.
  thread_local char peeked;  // what a peek copies out is not looked at
  idle.stream->socket().async_receive(
      asio::buffer(&peeked, 1), tcp::socket::message_peek,
      [this, stream = idle.stream.get(), watch = idle.watch](const boost::system::error_code& ec, std::size_t) {
        if (ec != asio::error::operation_aborted) drop_readable(stream, watch);
      });
}

void UpstreamPool::drop_readable(const Stream* stream, uint64_t watch) {
  for (auto& [key, list] : idle_) {
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (it->stream.get() != stream || it->watch != watch) continue;
      it->stream->close();
      list.erase(it);
      return;
    }
  }
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

void UpstreamPool::close_all() {
  for (auto& [key, list] : idle_)
    for (auto& idle : list) idle.stream->close();
  idle_.clear();
}

}  // namespace tollway::http
