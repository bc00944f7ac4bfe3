#include "proxy/downstream_connection.h"

#include "core/log.h"
#include "core/request_id.h"
#include "http/parser.h"
#include "http/read_body.h"
#include "http/serializer.h"
#include "proxy/worker.h"

namespace tollway::proxy {

namespace asio = boost::asio;
using http::error_code;

namespace {
// A reused buffer keeps its capacity for the connection's next request up to this size; a larger one is freed
// (an idle keep-alive connection stays small).
constexpr std::size_t kKeptBufferCapacity = 16 * 1024;

void empty_for_reuse(std::string& buffer) {
  if (buffer.capacity() > kKeptBufferCapacity)
    std::string().swap(buffer);
  else
    buffer.clear();
}

}  // namespace

std::optional<core::IpAddress> peer_address(const http::tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return std::nullopt;
  const auto address = endpoint.address();
  if (address.is_v4()) return core::IpAddress::v4(address.to_v4().to_bytes());
  return core::IpAddress::v6(address.to_v6().to_bytes());
}

DownstreamConnection::DownstreamConnection(Worker& worker, std::size_t listener, http::tcp::socket socket,
                                           std::optional<core::IpAddress> peer, Admission::ConnectionTicket ticket)
    : worker_(worker),
      listener_(listener),
      client_(std::move(socket), worker.snapshot()->serving.listeners[listener].tls
                                     ? worker.snapshot()->serving.listeners[listener].tls->context
                                     : nullptr),
      upstream_buffer_(16 * 1024),
      peer_(peer),
      ticket_(std::move(ticket)) {
  registration_ = worker_.register_connection(this);
}

DownstreamConnection::~DownstreamConnection() {
  worker_.unregister_connection(registration_);
}

void DownstreamConnection::sweep(http::Deadline::clock::time_point now) {
  if (!deadline_.expire_if_due(now)) return;
  client_.cancel();
  if (upstream_ != nullptr) upstream_->cancel();
}

void DownstreamConnection::on_drain() {
  if (phase_ == Phase::Idle && buffer_.empty()) client_.cancel();
}

bool DownstreamConnection::closing() const {
  return must_close_ || worker_.draining();
}

asio::awaitable<std::size_t> DownstreamConnection::read_more() {
  std::size_t available;
  char* into = buffer_.prepare(4096, available);
  error_code ec;
  const std::size_t n = co_await client_.read_some(asio::buffer(into, available), ec);
  if (ec) co_return 0;
  buffer_.commit(n);
  co_return n;
}

asio::awaitable<void> DownstreamConnection::serve() {
  if (client_.is_tls()) {
    // Under the header-read deadline: a client that stalls its handshake is closed by the sweeper like one
    // that stalls its request head.
    deadline_.expire_after(worker_.snapshot()->serving.timeouts.header_read);
    if (const error_code ec = co_await client_.accept_handshake(); ec) {
      worker_.handshake_refusals(listener_).record(
          tls::classify_handshake_failure(client_.tls_handle(), ec, deadline_.expired()), client_.socket(),
          client_.failure_reason(ec));
      client_.close();
      co_return;
    }
    peer_identity_ = tls::verified_peer_identity(client_.tls_handle());
  }
  while (!closing()) {
    // Held for the whole wait: a reload may swap the worker's snapshot while this connection reads.
    const std::shared_ptr<const pipeline::Snapshot> snapshot = worker_.snapshot();
    const pipeline::ServingSettings& serving = snapshot->serving;
    http::ParseLimits limits;
    limits.max_request_line = serving.limits.max_request_line;
    limits.max_header_block = serving.limits.max_header_block;
    limits.proxy_forms = serving.listeners[listener_].forward_proxy;
    http::RequestHead& head = request_head_;  // reused: keeps its header array
    http::ParseError parse_error;
    phase_ = buffer_.empty() ? Phase::Idle : Phase::Head;
    deadline_.expire_after(buffer_.empty() ? serving.timeouts.idle : serving.timeouts.header_read);
    // Pipelined bytes may already hold a whole head; otherwise read until one is complete, parsing again only
    // when the new bytes can change the answer (keeps a byte-at-a-time peer linear).
    http::ParseStatus status = buffer_.empty()
                                   ? http::ParseStatus::Incomplete
                                   : http::parse_request_head(buffer_.data(), limits, head, parse_error);
    while (status == http::ParseStatus::Incomplete) {
      const std::size_t parsed_size = buffer_.size();
      do {
        if (co_await read_more() == 0) {
          if (deadline_.expired() && phase_ == Phase::Head) {
            must_close_ = true;
            co_await write_error(408, "", "Timed out reading the request head", "request_timeout");
          }
          client_.close();
          co_return;
        }
        if (phase_ == Phase::Idle) {
          phase_ = Phase::Head;
          deadline_.expire_after(serving.timeouts.header_read);
        }
      } while (!http::head_parse_worthwhile(buffer_.data(), parsed_size, limits));
      status = http::parse_request_head(buffer_.data(), limits, head, parse_error);
    }
    if (status == http::ParseStatus::Error) {
      must_close_ = true;
      co_await write_error(parse_error.status, head.path(),
                           "Malformed HTTP request: " + std::string(parse_error.message),
                           "malformed_request");
      client_.close();
      co_return;
    }
    request_version_minor_ = head.version_minor;
    if (!head.keep_alive) must_close_ = true;
    co_await handle_request(head);
  }
  client_.close();
}

asio::awaitable<void> DownstreamConnection::handle_request(http::RequestHead& head) {
  // The request's state lives in the connection, not in this coroutine's frame: RequestCtx is over 1 KiB, and
  // Asio allocates a frame that large from the heap on every call (smaller frames come from its per-thread
  // cache).
  pipeline::RequestCtx& ctx = request_ctx_.emplace();
  struct EndOfRequest {  // on every way out of this coroutine, the request's state goes (snapshot, lease,
                         // ...)
    std::optional<pipeline::RequestCtx>& ctx;
    ~EndOfRequest() { ctx.reset(); }
  } end_of_request{request_ctx_};
  ctx.body.swap(body_storage_);  // empty, with the capacity of an earlier request's body
  deadline_.reset_expired();
  ctx.started = std::chrono::steady_clock::now();
  ctx.peer = peer_;
  ctx.listener = listener_;
  ctx.peer_identity = peer_identity_ ? &*peer_identity_ : nullptr;
  ctx.snapshot = worker_.snapshot();
  ctx.metrics = &worker_.metrics();
  ctx.head = &head;
  if (auto id = head.find("x-request-id"); id && is_acceptable_request_id(*id)) {
    ctx.request_id = std::string(*id);
  } else {
    ctx.request_id = new_request_id();
  }
  const RequestTarget target = worker_.role().classify(*ctx.snapshot, head, ctx);
  const pipeline::LocalEndpoint* local = target.local;
  ctx.chain = target.chain;
  consumed_from_buffer_ = head.head_size;
  body_limit_ = target.max_body;
  // The body is read when the driver asks (read_body), after the head phase.
  body_state_ = head.framing != http::BodyFraming::None ? BodyState::Unread : BodyState::None;

  // Held until this request ends; a request over limits.max_requests_in_flight is shed at once, before its body
  // is read or anything runs for it.
  Admission::RequestSlot slot = worker_.admission().admit_request(ctx.snapshot->serving.limits);
  if (target.kind == RequestTarget::Kind::Unknown) {
    if (ctx.reply.status == 0) ctx.reply.status = 404;
  } else if (!slot.admitted()) {
    ctx.reply.status = 503;
    ctx.reply.headers.emplace_back("retry-after", "1");
    ctx.outcome.error_code = "overloaded";
    ctx.outcome.error = "Overloaded: this process already handles limits.max_requests_in_flight (" +
                        std::to_string(ctx.snapshot->serving.limits.max_requests_in_flight) +
                        ") requests; retry after 1 s";
  } else if (head.framing == http::BodyFraming::ContentLength && head.content_length > body_limit_) {
    ctx.reply.status = 413;
    ctx.outcome.error_code = "body_too_large";
    ctx.outcome.error = "Request body of " + std::to_string(head.content_length) +
                        " bytes exceeds this route's limit of " + std::to_string(body_limit_) + " bytes";
  }
  deadline_.clear();

  pipeline::RunEnd run_end = pipeline::RunEnd::Finished;
  if (ctx.reply.status != 0) {
    co_await reply(ctx);
    pipeline::log_only(ctx);
  } else if (local != nullptr) {
    const pipeline::BodyRead read = co_await read_body(ctx);
    if (read == pipeline::BodyRead::ClientGone) co_return;
    if (read == pipeline::BodyRead::Read) co_await local->handle(ctx);
    if (ctx.reply.status == 0) ctx.reply.status = 500;
    co_await reply(ctx);
    pipeline::log_only(ctx);
  } else {
    run_end = co_await pipeline::run(ctx, *this);
    if (body_state_ == BodyState::Lost) co_return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
  const double upstream = std::chrono::duration<double>(ctx.outcome.upstream_total).count();
  worker_.metrics().record_request(ctx.route_name, ctx.upstream.provider, ctx.outcome.status, seconds,
                                   seconds - upstream, ctx.outcome.upstream_contacted);
  if (ctx.outcome.upstream_contacted) {
    const pipeline::Usage& u = ctx.usage;
    worker_.metrics().record_usage(
        ctx.upstream.provider,
        {u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cache_creation_input_tokens,
         u.reasoning_tokens, u.cost_micro_usd, u.known, u.estimated, u.priced_at_default});
  }
  if (run_end == pipeline::RunEnd::SettleOwed) {
    // The response is written: the settle (a Redis round trip) goes on beside this connection, which reads its
    // next request now; without room for it in this worker, it is awaited here as before.
    BackgroundSettles& settles = worker_.settles();
    if (settles.has_room()) {
      settles.start(std::make_unique<BackgroundSettles::Request>(
          std::move(ctx), head, buffer_.data().substr(0, head.head_size), std::move(slot)));
    } else {
      settles.count_in_line();
      co_await pipeline::settle_and_log(ctx);
    }
  }
  body_storage_.swap(ctx.body);
  for (std::string* buffer :
       {&body_storage_, &upstream_head_, &client_out_, &transformed_, &transform_scratch_})
    empty_for_reuse(*buffer);
  buffer_.consume(consumed_from_buffer_);
  if (!carry_.empty()) {
    buffer_.append(carry_);
    empty_for_reuse(carry_);
  }
}

asio::awaitable<pipeline::BodyRead> DownstreamConnection::read_body(pipeline::RequestCtx& ctx) {
  if (body_state_ != BodyState::Unread) co_return pipeline::BodyRead::Read;
  const http::RequestHead& head = *ctx.head;
  body_state_ = BodyState::Lost;  // until the body was read whole, or refused with the connection closing
  if (head.expect_continue && head.version_minor == 1) {
    error_code ec;
    co_await client_.write(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"), ec);
    if (ec) {
      client_.close();
      must_close_ = true;
      co_return pipeline::BodyRead::ClientGone;
    }
  }
  phase_ = Phase::Body;
  deadline_.expire_after(ctx.snapshot->serving.timeouts.body_read);
  http::BodyReader reader(head, body_limit_);
  if (head.framing == http::BodyFraming::ContentLength) ctx.body.reserve(head.content_length + 64);  // simdjson padding
  const http::BodyReadResult result =
      co_await http::read_body(client_, reader, buffer_.data().substr(head.head_size), ctx.body, carry_);
  // Bytes past the body in the buffer belong to the next request; bytes read past it are in carry_.
  consumed_from_buffer_ = head.head_size + result.used_from_buffered;
  const bool timed_out = deadline_.expired();
  deadline_.clear();
  using Outcome = http::BodyReadResult::Outcome;
  if (result.outcome == Outcome::Complete) {
    ctx.body.reserve(ctx.body.size() + 64);
    body_state_ = BodyState::Read;
    co_return pipeline::BodyRead::Read;
  }
  must_close_ = true;  // the rest of the body, if any, is not read
  if (result.outcome == Outcome::Closed && !timed_out) co_return pipeline::BodyRead::ClientGone;
  body_state_ = BodyState::Read;
  switch (result.outcome) {
    case Outcome::TooLarge:
      ctx.reply.status = 413;
      ctx.outcome.error_code = "body_too_large";
      ctx.outcome.error = "Request body exceeds this route's limit of " + std::to_string(body_limit_) + " bytes";
      break;
    case Outcome::Malformed:
      ctx.reply.status = 400;
      ctx.outcome.error_code = "malformed_request";
      ctx.outcome.error = "Malformed HTTP request body: " + std::string(reader.error());
      break;
    default:
      ctx.reply.status = 408;
      ctx.outcome.error_code = "request_timeout";
      ctx.outcome.error = "Timed out reading the request body";
      break;
  }
  co_return pipeline::BodyRead::Refused;
}

asio::awaitable<void> DownstreamConnection::write_error(int status, std::string_view path,
                                                        std::string_view message, std::string_view code) {
  const std::string body = worker_.role().error_body(nullptr, path, status, message, code);
  std::string out;
  http::append_status_line(out, status, request_version_minor_);
  http::append_header(out, "Content-Type", "application/json");
  http::append_header(out, "Content-Length", std::to_string(body.size()));
  if (closing()) http::append_header(out, "Connection", "close");
  http::end_head(out);
  out += body;
  error_code ec;
  deadline_.expire_after(worker_.snapshot()->serving.timeouts.response_write);  // a client that never reads
  co_await client_.write(out, ec);
  deadline_.clear();
}

asio::awaitable<void> DownstreamConnection::reply(pipeline::RequestCtx& ctx) {
  // Answered before its body was read: the unread body must never be parsed as the next request.
  if (body_state_ == BodyState::Unread) must_close_ = true;
  pipeline::Reply& r = ctx.reply;
  if (r.body.empty() && r.status >= 400) {
    r.body = worker_.role().error_body(
        &ctx, ctx.head->path(), r.status,
        ctx.outcome.error.empty() ? http::reason_phrase(r.status) : ctx.outcome.error,
        ctx.outcome.error_code.empty() ? "gateway_error" : ctx.outcome.error_code);
    r.status = worker_.role().error_status(ctx, r.status);
  }
  std::string head;
  http::append_status_line(head, r.status, request_version_minor_);
  http::append_header(
      head, "Content-Type",
      r.content_type.empty() ? std::string_view("application/json") : std::string_view(r.content_type));
  http::append_header(head, "Content-Length", std::to_string(r.body.size()));
  http::append_header(head, "x-request-id", ctx.request_id);
  for (const auto& [name, value] : r.headers) http::append_header(head, name, value);
  for (const auto& [name, value] : ctx.response_headers) http::append_header(head, name, value);
  if (closing()) http::append_header(head, "Connection", "close");
  http::end_head(head);
  // A response to HEAD has the head a GET would get and never a body (RFC 9110 §9.3.2): a body here would be
  // read by the client as the start of the next response on this connection.
  const bool send_body = ctx.head->method != "HEAD";
  const asio::const_buffer parts[] = {asio::buffer(head),
                                      asio::buffer(r.body.data(), send_body ? r.body.size() : 0)};
  phase_ = Phase::Responding;
  error_code ec;
  // A client that takes none of the answer within response_write (e.g. one that pipelines requests and never
  // reads) is cut by the sweep.
  deadline_.expire_after(ctx.snapshot->serving.timeouts.response_write);
  co_await client_.write(parts, ec);
  deadline_.clear();
  if (ec) must_close_ = true;
  ctx.outcome.status = r.status;
  ctx.outcome.response_bytes = send_body ? r.body.size() : 0;
}

}  // namespace tollway::proxy
