// DownstreamConnection's tunnel (see pipeline::Exchange::tunnel): a CONNECT the chain allowed becomes a TCP
// connection to its target and a byte relay both ways. A half-close passes through (the client's FIN becomes
// the target's and the other way round); a reset or a failed write ends both directions; so does the idle
// timeout, counted from the last byte either way. The connection never carries another request afterwards.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <array>

#include "http/upstream_pool.h"
#include "proxy/downstream_connection.h"
#include "proxy/worker.h"

namespace tollway::proxy {

namespace asio = boost::asio;
using http::error_code;
using clock = std::chrono::steady_clock;

namespace {

// Bytes one way until the sender's FIN (passed on as ours), an error, or a cancel; `moved` counts what was
// written. An error other than EOF cancels both streams, ending the other direction too.
asio::awaitable<void> relay_one_way(http::Stream& from, http::Stream& to, http::Deadline& deadline,
                                    clock::duration idle, uint64_t& moved) {
  std::array<char, 16 * 1024> buffer;
  while (true) {
    error_code ec;
    const std::size_t n = co_await from.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::eof) {
      to.shutdown_send();
      co_return;
    }
    if (!ec) {
      deadline.expire_after(idle);
      co_await to.write(std::string_view(buffer.data(), n), ec);
    }
    if (ec) {
      from.cancel();
      to.cancel();
      co_return;
    }
    moved += n;
  }
}

}  // namespace

asio::awaitable<void> DownstreamConnection::tunnel(pipeline::RequestCtx& ctx) {
  using namespace asio::experimental::awaitable_operators;
  const pipeline::TunnelTarget& target = *ctx.upstream.tunnel;
  const config::Timeouts& timeouts = ctx.snapshot->serving.timeouts;
  must_close_ = true;
  phase_ = Phase::Upstream;
  const auto started = clock::now();
  http::UpstreamEndpoint endpoint;
  endpoint.host = target.host;
  endpoint.port = target.port;
  http::ConnectFailure failure;
  std::unique_ptr<http::Stream> stream =
      co_await http::connect_endpoint(client_.socket().get_executor(), endpoint, timeouts.upstream_connect, failure);
  if (!stream) {
    ctx.reply.status = failure.timed_out ? 504 : 502;
    ctx.outcome.error_code = failure.timed_out ? "upstream_timeout" : "upstream_unavailable";
    ctx.outcome.error = "Tunnel to " + std::string(ctx.head->authority) + " failed: " + failure.message;
    co_return;
  }
  ctx.outcome.upstream_contacted = true;
  error_code ec;
  co_await client_.write(std::string_view("HTTP/1.1 200 Connection Established\r\n\r\n"), ec);
  ctx.outcome.status = 200;
  // Bytes the client sent right behind its CONNECT head (a TLS ClientHello, often) are the tunnel's first.
  const std::string_view early = buffer_.data().substr(ctx.head->head_size);
  if (!ec && !early.empty()) {
    co_await stream->write(early, ec);
    if (!ec) ctx.outcome.tunneled_from_client += early.size();
  }
  consumed_from_buffer_ = buffer_.size();
  if (!ec) {
    upstream_ = stream.get();
    deadline_.reset_expired();
    deadline_.expire_after(timeouts.idle);
    co_await (relay_one_way(client_, *stream, deadline_, timeouts.idle, ctx.outcome.tunneled_from_client) &&
              relay_one_way(*stream, client_, deadline_, timeouts.idle, ctx.outcome.tunneled_to_client));
    upstream_ = nullptr;
    deadline_.clear();
  }
  stream->close();
  ctx.outcome.upstream_total = clock::now() - started;
}

}  // namespace tollway::proxy
