// DownstreamConnection's forward phase: one upstream attempt of one request and the streaming relay of its
// response (see downstream_connection.h). A failure before any byte reached the client is reported in
// ctx.outcome.failure for the driver's retry/fallback decision (pipeline/run.cc); a 429/5xx answer is kept
// from the client when the driver's AttemptPlan says another attempt will follow. The client is watched meanwhile
// (watch_plain_client, watch_tls_client): when it closes or resets, the upstream exchange ends at once — after the read for usage a
// response hook may still want — and its connection is closed, never pooled.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <memory>

#include "core/log.h"
#include "http/chunked.h"
#include "http/parser.h"
#include "http/read_body.h"
#include "http/serializer.h"
#include "proxy/downstream_connection.h"
#include "proxy/worker.h"

namespace tollway::proxy {

namespace asio = boost::asio;
namespace resilience = providers::resilience;
using http::error_code;
using clock = std::chrono::steady_clock;

namespace {

// What watch_tls_client reads of the client at most; more waits in the socket (a client that leaves after sending
// that much is then noticed only when a write to it fails).
constexpr std::size_t kMaxReadAhead = 64 * 1024;

bool is_listed(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names)
    if (http::iequals(n, name)) return true;
  return false;
}

bool is_set(const pipeline::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (http::iequals(n, name)) return true;
  return false;
}

// The request head sent upstream, into `out` (a buffer the connection reuses): the caller's end-to-end
// headers minus what shape_upstream drops, plus what it sets, with our own Host, framing and request id.
void build_upstream_request_head(const pipeline::RequestCtx& ctx, std::string& out) {
  const http::RequestHead& in = *ctx.head;
  const pipeline::UpstreamRequest& up = ctx.upstream;
  out.clear();
  out.reserve(512 + in.head_size);
  http::append_request_line(out, in.method, up.target);
  http::append_header(out, "Host", up.host_header);
  const http::HopByHop hop_by_hop(in.headers);
  for (const auto& h : in.headers) {
    if (hop_by_hop.contains(h.name) || http::iequals(h.name, "host") ||
        http::iequals(h.name, "content-length") || http::iequals(h.name, "expect") ||
        http::iequals(h.name, "x-request-id") || http::iequals(h.name, "accept-encoding") ||
        is_listed(up.drop_headers, h.name) || is_set(up.set_headers, h.name))
      continue;
    http::append_header(out, h.name, h.value);
  }
  for (const auto& [name, value] : up.set_headers) http::append_header(out, name, value);
  http::append_header(out, "x-request-id", ctx.request_id);
  // Responses must be readable by the gateway (usage extraction); compression stays between client and us.
  http::append_header(out, "Accept-Encoding", "identity");
  if (!ctx.body.empty() || in.framing != http::BodyFraming::None)
    http::append_header(out, "Content-Length", std::to_string(ctx.body.size()));
  http::end_head(out);
}

}  // namespace

asio::awaitable<void> DownstreamConnection::forward(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks) {
  watching_ = true;
  if (client_.is_tls()) {
    using namespace asio::experimental::awaitable_operators;
    co_await (send_and_relay(ctx, hooks) && watch_tls_client());
  } else {
    watch_plain_client();
    co_await send_and_relay(ctx, hooks);
  }
  if (!client_gone_) co_return;
  must_close_ = true;
  client_.close();
  if (ctx.outcome.status == 0) {  // gone before the response head: nobody to answer, no other attempt
    ctx.reply = pipeline::Reply{};
    ctx.outcome.failure = resilience::AttemptFailure::None;
    ctx.outcome.cut = pipeline::ResponseCut::ClientGone;
    ctx.outcome.error = "client went away before the response";
  }
}

void DownstreamConnection::on_client_gone() {
  if (!client_gone_ && upstream_ != nullptr) upstream_->cancel();
  client_gone_ = true;
}

void DownstreamConnection::watch_plain_client() {
  // A peeking receive, not async_wait: Asio starts a wait with an epoll_ctl each time, while a receive is only
  // queued on the socket, already in the worker's epoll set, and reads (one recv) only once the reactor saw the
  // socket turn readable after the request was read. What it peeks stays for the next request's read.
  thread_local char peeked;  // what a peek copies out is not looked at
  client_.socket().async_receive(
      asio::buffer(&peeked, 1), http::tcp::socket::message_peek,
      [self = shared_from_this()](const error_code& ec, std::size_t) {
        if (ec == asio::error::operation_aborted || !self->watching_) return;  // the forward phase ended, or the sweep
        if (!ec) return;  // a pipelined request: read after this response
        self->on_client_gone();  // EOF, or a reset
      });
}

asio::awaitable<void> DownstreamConnection::watch_tls_client() {
  constexpr std::size_t kReadSize = 4096;
  // Read into storage that is not zero-filled first (std::string::resize would clear 4 KiB per request for a read
  // that usually brings nothing before the response ends), then keep what arrived.
  const auto read_ahead = std::make_unique_for_overwrite<char[]>(kReadSize);
  while (watching_ && carry_.size() < kMaxReadAhead) {
    error_code ec;
    const std::size_t n = co_await client_.read_some(asio::buffer(read_ahead.get(), kReadSize), ec);
    carry_.append(read_ahead.get(), n);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {  // EOF (a TLS close_notify too), a reset, a TLS stream cut short
      on_client_gone();
      co_return;
    }
  }
}

asio::awaitable<void> DownstreamConnection::send_and_relay(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks) {
  struct EndOfWatch {  // on every way out, the watch stops (its pending wait or read is cancelled)
    DownstreamConnection& connection;
    ~EndOfWatch() {
      connection.watching_ = false;
      connection.client_.cancel();
    }
  } end_of_watch{*this};
  const pipeline::ServingSettings& serving = ctx.snapshot->serving;
  const config::Timeouts& timeouts = serving.timeouts;
  const http::UpstreamEndpoint& endpoint = *ctx.upstream.endpoint;
  const auto& provider = ctx.upstream.provider;
  const auto total_deadline = ctx.started + timeouts.upstream_total;
  build_upstream_request_head(ctx, upstream_head_);
  const asio::const_buffer request[] = {asio::buffer(upstream_head_), asio::buffer(ctx.body)};

  auto fail = [&](int status, std::string message, const char* kind, resilience::AttemptFailure failure) {
    ctx.reply.status = status;
    ctx.outcome.error = std::move(message);
    ctx.outcome.error_code = status == 504 ? "upstream_timeout" : "upstream_unavailable";
    ctx.outcome.failure = failure;
    worker_.metrics().record_upstream_error(provider, kind);
  };

  phase_ = Phase::Upstream;
  ctx.outcome.upstream_contacted = true;
  const auto exchange_start = clock::now();
  std::unique_ptr<http::Stream> stream;
  http::ResponseHead& head = response_head_;  // reused: keeps its header array
  // A pooled connection the origin closed meanwhile fails before any response byte: retry once on a new one.
  for (int attempt = 0;; ++attempt) {
    stream = attempt == 0 ? worker_.pool().take_idle(endpoint) : nullptr;
    const bool reused = stream != nullptr;
    if (!stream) {
      std::string error;
      bool timed_out = false;
      stream = co_await worker_.pool().connect(endpoint, timeouts.upstream_connect, error, timed_out);
      if (!stream) {
        fail(timed_out ? 504 : 502, "Provider \"" + provider + "\" is unreachable: " + error,
             timed_out ? "timeout" : "connect",
             timed_out ? resilience::AttemptFailure::Timeout : resilience::AttemptFailure::Connect);
        co_return;
      }
    }
    upstream_ = stream.get();
    deadline_.reset_expired();
    const auto sent_at = clock::now();
    const auto first_byte_deadline = std::min(sent_at + timeouts.upstream_first_byte, total_deadline);
    // Each read of the head is also bounded by upstream_idle from the previous one; true while that is the
    // nearer bound (so an expiry names it).
    bool idle_bound = false;
    deadline_.expire_at(first_byte_deadline);
    error_code ec;
    co_await stream->write(request, ec);
    upstream_buffer_.consume(upstream_buffer_.size());
    http::ParseError parse_error;
    http::ParseStatus status = http::ParseStatus::Incomplete;
    http::ParseLimits limits;
    std::size_t parsed_size = 0;
    while (!ec && !client_gone_) {
      if (!upstream_buffer_.empty() &&
          http::head_parse_worthwhile(upstream_buffer_.data(), parsed_size, limits)) {
        status =
            http::parse_response_head(upstream_buffer_.data(), ctx.head->method, limits, head, parse_error);
        if (status == http::ParseStatus::Complete && head.status >= 100 && head.status < 200 &&
            head.status != 101) {
          upstream_buffer_.consume(head.head_size);  // interim response: wait for the final one
          parsed_size = 0;
          continue;
        }
        if (status != http::ParseStatus::Incomplete) break;
      }
      parsed_size = upstream_buffer_.size();
      const auto idle_deadline = clock::now() + timeouts.upstream_idle;
      idle_bound = idle_deadline < first_byte_deadline;
      deadline_.expire_at(idle_bound ? idle_deadline : first_byte_deadline);
      std::size_t available;
      char* into = upstream_buffer_.prepare(4096, available);
      const std::size_t n = co_await stream->read_some(asio::buffer(into, available), ec);
      upstream_buffer_.commit(n);
    }
    if (client_gone_) {  // nobody to answer: forward() records it
      upstream_ = nullptr;
      stream->close();
      co_return;
    }
    if (ec) {
      upstream_ = nullptr;
      stream->close();
      if (deadline_.expired()) {
        fail(504,
             idle_bound ? "Provider \"" + provider + "\" sent nothing for " +
                              std::to_string(timeouts.upstream_idle.count()) +
                              " ms before its response head (timeouts.upstream_idle)"
                        : "Provider \"" + provider + "\" did not answer within " +
                              std::to_string(timeouts.upstream_first_byte.count()) + " ms",
             "timeout", resilience::AttemptFailure::Timeout);
        co_return;
      }
      if (reused && upstream_buffer_.empty() && attempt == 0) continue;
      fail(502, "Provider \"" + provider + "\" closed the connection before answering: " + ec.message(),
           "reset", resilience::AttemptFailure::Closed);
      co_return;
    }
    if (status == http::ParseStatus::Error || head.status == 101) {
      upstream_ = nullptr;
      stream->close();
      fail(502,
           "Provider \"" + provider + "\" sent a malformed response: " +
               (head.status == 101 ? std::string("unexpected protocol upgrade")
                                   : std::string(parse_error.message)),
           "protocol", resilience::AttemptFailure::Protocol);
      co_return;
    }
    ctx.outcome.upstream_first_byte = clock::now() - sent_at;
    break;
  }
  // A 429/5xx that another attempt will replace never reaches the client (nor the response filters).
  const auto status_failure = resilience::failure_for_status(head.status);
  if (status_failure != resilience::AttemptFailure::None && ctx.attempt.plan != nullptr &&
      ctx.attempt.plan->would_try_again(status_failure, clock::now())) {
    co_await hold_failed_response(ctx, hooks, std::move(stream), head);
    ctx.outcome.upstream_total = clock::now() - exchange_start;
    co_return;
  }

  co_await relay_response(ctx, hooks, std::move(stream), exchange_start);
}

// The client's response head, into client_out_: the provider's end-to-end headers with our framing. Plain
// code (no await), so its locals stay out of the coroutine frames.
DownstreamConnection::ResponseFraming DownstreamConnection::start_client_response(pipeline::RequestCtx& ctx,
                                                                                pipeline::ResponseHooks& hooks,
                                                                                const http::ResponseHead& head) {
  const bool length_changes = hooks.head(head);
  const bool head_request = ctx.head->method == "HEAD";
  ResponseFraming framing;
  framing.no_body = head_request || head.status == 204 || head.status == 304;
  const bool client_http11 = request_version_minor_ == 1;
  const bool client_framed = head.framing != http::BodyFraming::ContentLength || length_changes;
  framing.chunked = !framing.no_body && client_framed && client_http11;
  if (!framing.no_body && client_framed && !client_http11) must_close_ = true;
  std::string& out = client_out_;  // reused: keeps its capacity
  out.clear();
  out.reserve(1024);
  http::append_status_line(out, head.status, request_version_minor_);
  const http::HopByHop hop_by_hop(head.headers);
  for (const auto& h : head.headers) {
    if (hop_by_hop.contains(h.name) || http::iequals(h.name, "x-request-id")) continue;
    if (http::iequals(h.name, "content-length") && (!head_request || length_changes)) continue;
    if (is_set(ctx.response_headers, h.name)) continue;  // the gateway's own (e.g. its x-ratelimit-*) win
    http::append_header(out, h.name, h.value);
  }
  http::append_header(out, "x-request-id", ctx.request_id);
  for (const auto& [name, value] : ctx.response_headers) http::append_header(out, name, value);
  if (!framing.no_body) {
    if (head.framing == http::BodyFraming::ContentLength && !length_changes) {
      http::append_header(out, "Content-Length", std::to_string(head.content_length));
    } else if (framing.chunked) {
      http::append_header(out, "Transfer-Encoding", "chunked");
    }
  } else if (head.status != 204 && head.status != 304 && !head_request) {
    http::append_header(out, "Content-Length", "0");
  }
  if (closing()) http::append_header(out, "Connection", "close");
  http::end_head(out);
  return framing;
}

asio::awaitable<void> DownstreamConnection::write_to_client(std::string_view bytes, error_code& ec,
                                                            clock::time_point total_deadline,
                                                            std::chrono::milliseconds response_write) {
  deadline_.expire_at(std::min(total_deadline, clock::now() + response_write));
  co_await client_.write(bytes, ec);
  // A write cut by response_write is the client's fault, not the exchange's: it is not reported as
  // upstream_total passing.
  if (ec && deadline_.expired() && clock::now() < total_deadline) deadline_.reset_expired();
  deadline_.expire_at(total_deadline);
}

asio::awaitable<void> DownstreamConnection::relay_response(pipeline::RequestCtx& ctx, pipeline::ResponseHooks& hooks,
                                                           std::unique_ptr<http::Stream> stream,
                                                           clock::time_point exchange_start) {
  const pipeline::ServingSettings& serving = ctx.snapshot->serving;
  const http::UpstreamEndpoint& endpoint = *ctx.upstream.endpoint;
  const auto& provider = ctx.upstream.provider;
  const auto total_deadline = ctx.started + serving.timeouts.upstream_total;
  const http::ResponseHead& head = response_head_;
  const ResponseFraming framing = start_client_response(ctx, hooks, head);
  const bool no_body = framing.no_body;
  const bool relay_chunked = framing.chunked;
  std::string& out = client_out_;
  const bool upstream_reusable = head.keep_alive && head.framing != http::BodyFraming::UntilClose;
  const std::size_t upstream_head_size = head.head_size;
  upstream_buffer_.consume(upstream_head_size);  // `head` views are not used past this point
  ctx.outcome.status = head.status;
  phase_ = Phase::Responding;
  deadline_.expire_at(total_deadline);

  // Relay the body as it arrives: each read from the provider becomes one write to the client.
  http::BodyReader body_reader(no_body ? http::BodyFraming::None : head.framing, head.content_length);
  bool complete = body_reader.done();
  bool upstream_ok = true;
  bool client_ok = true;
  // Body bytes towards the client: through the hooks' transformers, then framed for the client.
  auto relay = [&](std::string_view data, bool last) {
    const std::string_view piece = hooks.transform(data, last, transformed_, transform_scratch_);
    if (piece.empty()) return;
    if (relay_chunked)
      http::append_chunk(out, piece);
    else
      out.append(piece);
    hooks.sent(piece);
    ctx.outcome.response_bytes += piece.size();
  };
  bool transformers_finished = false;
  auto finish_transformers = [&]() {
    if (transformers_finished) return;
    transformers_finished = true;
    if (hooks.has_transformers()) relay({}, true);
  };
  // After the client has gone, reading goes on while a transformer still needs the usage, within bounds.
  auto wants_more_after_client_gone = [&]() { return hooks.wants_more_after_client_gone(); };
  uint64_t drained_bytes = 0;
  bool draining = false;
  // What bounds the next provider read: upstream_total (or, once draining, the drain's end), and upstream_idle
  // from now; idle_bound is true while upstream_idle is the nearer.
  auto read_deadline = total_deadline;
  bool idle_bound = false;
  while (true) {
    // Turn what is buffered from upstream into client bytes.
    std::string_view input = upstream_buffer_.data();
    std::size_t used = 0;
    while (!complete && upstream_ok) {
      const auto step = body_reader.next(input.substr(used));
      used += step.consumed;
      if (step.status == http::BodyReader::Status::Data) {
        relay(step.data, false);
      } else if (step.status == http::BodyReader::Status::Done) {
        complete = true;
      } else if (step.status == http::BodyReader::Status::Error) {
        upstream_ok = false;
        ctx.outcome.error = "provider sent a malformed chunked body: " + std::string(body_reader.error());
      } else {
        break;  // NeedMore
      }
    }
    upstream_buffer_.consume(used);
    if (draining) {
      drained_bytes += used;
      out.clear();  // nobody to send it to
    }
    if (complete) finish_transformers();
    if (complete && relay_chunked) out.append(http::kLastChunk);
    if (complete && !upstream_buffer_.empty()) upstream_buffer_.consume(upstream_buffer_.size());
    if (!out.empty() && client_ok) {
      error_code ec;
      co_await write_to_client(out, ec, total_deadline, serving.timeouts.response_write);
      if (ec) client_gone_ = true;
      out.clear();
    }
    if (client_gone_ && client_ok) {  // a write failed, or the watch saw the client close or reset
      client_ok = false;
      ctx.outcome.error = "client went away mid-response";
    }
    if (!client_ok && !draining && !complete && upstream_ok && wants_more_after_client_gone()) {
      draining = true;  // keep reading for the usage, bounded by the usage section's drain limits
      read_deadline = std::min(total_deadline, clock::now() + serving.drain_time);
      deadline_.expire_at(read_deadline);
    }
    // The sweep cancels only I/O that is pending: a provider whose bytes are always ready would never be cut, so
    // drain_time is checked here too.
    if (draining && (drained_bytes > serving.drain_bytes || deadline_.expired() || !wants_more_after_client_gone()))
      break;
    if (complete || !upstream_ok || (!client_ok && !draining)) break;
    const auto idle_deadline = clock::now() + serving.timeouts.upstream_idle;
    idle_bound = idle_deadline < read_deadline;
    deadline_.expire_at(idle_bound ? idle_deadline : read_deadline);
    std::size_t available;
    char* into = upstream_buffer_.prepare(4096, available);
    error_code ec;
    const std::size_t n = co_await stream->read_some(asio::buffer(into, available), ec);
    upstream_buffer_.commit(n);
    if (ec == asio::error::operation_aborted && client_gone_ && client_ok) continue;  // by the watch: see above
    if (ec) {
      if (ec == asio::error::eof && body_reader.end_of_input().status == http::BodyReader::Status::Done) {
        complete = true;
        finish_transformers();
        if (relay_chunked) out.append(http::kLastChunk);
        if (!out.empty()) {
          error_code wec;
          co_await write_to_client(out, wec, total_deadline, serving.timeouts.response_write);
          if (wec) client_ok = false;
        }
        break;
      }
      upstream_ok = false;
      if (draining) break;  // the drain bounds ended it; the client is gone already
      if (!deadline_.expired())
        ctx.outcome.error = "provider cut the response: " + ec.message();
      else if (idle_bound)
        ctx.outcome.error = "the provider sent nothing for " + std::to_string(serving.timeouts.upstream_idle.count()) +
                            " ms mid-response (timeouts.upstream_idle)";
      else
        ctx.outcome.error = "the exchange exceeded timeouts.upstream_total";
      worker_.metrics().record_upstream_error(provider, deadline_.expired() ? "timeout" : "reset");
      break;
    }
  }
  if (!complete || !client_ok || !upstream_ok) {
    using Cut = pipeline::ResponseCut;
    if (draining)
      ctx.outcome.cut = Cut::ClientGone;  // the client left first
    else if (deadline_.expired())
      ctx.outcome.cut = Cut::Timeout;
    else
      ctx.outcome.cut = client_ok ? Cut::UpstreamBroken : Cut::ClientGone;
  }
  out.clear();
  finish_transformers();  // a cut or abandoned body: transformers settle what they saw (e.g. estimate usage)
  hooks.ended();
  upstream_ = nullptr;
  ctx.outcome.upstream_total = clock::now() - exchange_start;
  if (complete && upstream_ok && upstream_reusable && !worker_.draining()) {
    worker_.pool().give_back(endpoint, std::move(stream));
  } else {
    stream->close();
  }
  if (!complete || !client_ok) {
    must_close_ = true;  // the client cannot tell where this response ended otherwise
    client_.close();
  }
  deadline_.clear();
}

// The provider's 429/5xx answer to an attempt the driver will repeat: its head and body (at most
// kMaxHeldBody) go to ctx.reply instead of the client, so that the client gets it unchanged should the driver
// stop after all (e.g. a retry-after longer than backoff_max and no fallback). The connection goes back to
// the pool when the body was read whole.
asio::awaitable<void> DownstreamConnection::hold_failed_response(pipeline::RequestCtx& ctx,
                                                                 pipeline::ResponseHooks& hooks,
                                                                 std::unique_ptr<http::Stream> stream,
                                                                 const http::ResponseHead& head) {
  constexpr std::size_t kMaxHeldBody = 64 * 1024;
  const int64_t unix_now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ctx.outcome.failure = resilience::failure_for_status(head.status);
  ctx.outcome.retry_after =
      resilience::provider_retry_after(head.find("retry-after-ms"), head.find("retry-after"), unix_now);
  ctx.outcome.error = "Provider \"" + ctx.upstream.provider + "\" answered " + std::to_string(head.status);
  ctx.outcome.error_code = head.status == 429 ? "rate_limit_exceeded" : "upstream_error";
  pipeline::Reply& reply = ctx.reply;
  reply = pipeline::Reply{};
  reply.status = head.status;
  const http::HopByHop hop_by_hop(head.headers);
  for (const auto& h : head.headers) {
    if (hop_by_hop.contains(h.name) || http::iequals(h.name, "content-length") ||
        http::iequals(h.name, "x-request-id"))
      continue;
    if (http::iequals(h.name, "content-type"))
      reply.content_type = std::string(h.value);
    else
      reply.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  const bool no_body = ctx.head->method == "HEAD" || head.status == 204 || head.status == 304 ||
                       head.framing == http::BodyFraming::None;
  const http::BodyFraming framing = head.framing;
  const uint64_t content_length = head.content_length;
  const bool reusable = head.keep_alive && framing != http::BodyFraming::UntilClose;
  upstream_buffer_.consume(head.head_size);  // `head` views are not used past this point
  upstream_ = stream.get();
  // Malformed, larger than kMaxHeldBody or cut: the body is given up and the connection closed below.
  http::BodyReader reader(no_body ? http::BodyFraming::None : framing, content_length, kMaxHeldBody);
  std::string read_past_body;
  const http::BodyReadResult result =
      co_await http::read_body(*stream, reader, upstream_buffer_.data(), reply.body, read_past_body);
  const bool complete = result.outcome == http::BodyReadResult::Outcome::Complete;
  upstream_ = nullptr;
  upstream_buffer_.consume(upstream_buffer_.size());
  if (!complete) reply.body.clear();  // reply() then writes the gateway's own error in the caller's format
  if (complete) hooks.held(reply);
  if (complete && reusable && !worker_.draining())
    worker_.pool().give_back(*ctx.upstream.endpoint, std::move(stream));
  else
    stream->close();
  deadline_.clear();
}

}  // namespace tollway::proxy
