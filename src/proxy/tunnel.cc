// The CONNECT tunnel of a downstream connection (see pipeline::Exchange::tunnel): a plain TCP connection to the
// allowed HOST:PORT, a 200 to the client, then bytes relayed both ways with half-closes passed on. Nothing is parsed
// and nothing is forwarded before the role allowed the destination.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "http/serializer.h"
#include "http/upstream_pool.h"
#include "proxy/downstream_connection.h"
#include "proxy/worker.h"

namespace tollway::proxy {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

asio::awaitable<void> DownstreamConnection::relay_tunnel(http::Stream& from, http::Stream& to, uint64_t& relayed,
                                                         std::chrono::milliseconds idle) {
  std::array<char, 16384> chunk;
  while (true) {
    error_code ec;
    const std::size_t n = co_await from.read_some(asio::buffer(chunk), ec);
    if (ec) {
      if (ec == asio::error::eof) {
        to.shutdown_send();  // the other direction goes on until its own end
      } else {
        from.close();  // a reset, a failure or the idle timeout ends both directions
        to.close();
      }
      co_return;
    }
    deadline_.expire_after(idle);
    co_await to.write(std::string_view(chunk.data(), n), ec);
    if (ec) {
      from.close();
      to.close();
      co_return;
    }
    relayed += n;
  }
}

asio::awaitable<void> DownstreamConnection::tunnel(pipeline::RequestCtx& ctx) {
  using namespace asio::experimental::awaitable_operators;
  must_close_ = true;  // after a tunnel the connection carries no more requests
  const auto& timeouts = ctx.snapshot->serving.timeouts;
  http::UpstreamEndpoint endpoint;
  endpoint.host = ctx.upstream.tunnel->host;
  endpoint.port = ctx.upstream.tunnel->port;
  phase_ = Phase::Upstream;
  ctx.outcome.upstream_contacted = true;
  const auto start = clock::now();
  deadline_.reset_expired();
  http::ConnectFailure failure;
  const auto executor = co_await asio::this_coro::executor;
  std::unique_ptr<http::Stream> upstream =
      co_await http::connect_endpoint(executor, endpoint, timeouts.upstream_connect, failure);
  if (!upstream) {
    ctx.reply.status = failure.timed_out ? 504 : 502;
    ctx.outcome.error_code = failure.timed_out ? "timeout" : "connect";
    ctx.outcome.error = "CONNECT " + endpoint.host + ":" + std::to_string(endpoint.port) + ": " + failure.message;
    co_return;
  }
  upstream_ = upstream.get();
  std::string head;
  http::append_status_line(head, 200, request_version_minor_);
  http::end_head(head);
  error_code ec;
  co_await client_.write(head, ec);
  ctx.outcome.status = 200;
  phase_ = Phase::Responding;
  // Bytes the client sent after the CONNECT head (a TLS ClientHello, typically) go first.
  const std::string_view early = buffer_.data().substr(ctx.head->head_size);
  if (!ec && !early.empty()) {
    co_await upstream->write(early, ec);
    ctx.outcome.tunneled_bytes += early.size();
  }
  consumed_from_buffer_ = buffer_.size();
  if (!ec) {
    deadline_.expire_after(timeouts.idle);
    co_await (relay_tunnel(client_, *upstream, ctx.outcome.tunneled_bytes, timeouts.idle) &&
              relay_tunnel(*upstream, client_, ctx.outcome.response_bytes, timeouts.idle));
  }
  deadline_.clear();
  upstream_ = nullptr;
  upstream->close();
  client_.close();
  ctx.outcome.upstream_total = clock::now() - start;
}

}  // namespace tollway::proxy
