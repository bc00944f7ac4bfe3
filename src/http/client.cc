#include "http/client.h"

#include "http/message.h"
#include "http/parser.h"
#include "http/read_body.h"
#include "http/read_buffer.h"
#include "http/serializer.h"

namespace tollway::http {

using Clock = std::chrono::steady_clock;

std::optional<std::string_view> ClientResponse::find(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return std::string_view(v);
  return std::nullopt;
}

Client::Client(asio::any_io_executor executor, UpstreamEndpoint endpoint, ClientOptions options)
    : executor_(std::move(executor)), endpoint_(std::move(endpoint)), options_(options) {}

Client::~Client() {
  if (idle_) idle_->close();
}

void Client::use_tls_context(std::shared_ptr<asio::ssl::context> context) {
  if (context == endpoint_.tls_context) return;
  endpoint_.tls_context = std::move(context);
  if (idle_) idle_->close();
  idle_.reset();
}

std::string Client::host_header() const {
  const bool ipv6_literal = endpoint_.host.find(':') != std::string::npos;
  std::string host = ipv6_literal ? "[" + endpoint_.host + "]" : endpoint_.host;
  if (endpoint_.port != (endpoint_.tls ? 443 : 80)) host += ":" + std::to_string(endpoint_.port);
  return host;
}

std::string Client::name() const {
  return std::string(endpoint_.tls ? "https://" : "http://") + host_header();
}

asio::awaitable<ClientResponse> Client::request(std::string_view method, std::string_view target,
                                                const HeaderPairs& headers, std::string_view body) {
  const auto deadline = Clock::now() + options_.timeout;
  std::string request;
  append_request_line(request, method, target);
  append_header(request, "Host", host_header_.empty() ? host_header() : host_header_);
  for (const auto& [name, value] : headers) append_header(request, name, value);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    append_header(request, "Content-Length", std::to_string(body.size()));
  if (!options_.keep_alive) append_header(request, "Connection", "close");
  end_head(request);

  std::shared_ptr<Stream> stream = std::move(idle_);
  if (stream && !idle_connection_alive(stream->socket())) {
    stream->close();
    stream.reset();
  }
  bool reused = stream != nullptr;
  while (true) {
    if (!stream) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      ConnectFailure failure;
      std::unique_ptr<Stream> fresh;
      if (left.count() > 0) fresh = co_await connect_endpoint(executor_, endpoint_, left, failure);
      else failure = ConnectFailure{ConnectFailure::Stage::Connect, true, "timed out connecting to " + name(), ""};
      if (!fresh) {
        ClientResponse failed;
        if (failure.stage == ConnectFailure::Stage::Handshake)
          failed.error = failure.timed_out ? "TLS handshake timed out" : "TLS handshake failed: " + failure.reason;
        else
          failed.error = std::move(failure.message);
        co_return failed;
      }
      ++connections_opened_;
      stream = std::move(fresh);
    }
    // The deadline cancels whatever the exchange waits for; the handler may run after this coroutine moved on.
    auto expired = std::make_shared<bool>(false);
    asio::steady_timer timer(executor_, deadline);
    timer.async_wait([weak = std::weak_ptr<Stream>(stream), expired](const error_code& ec) {
      if (ec) return;
      *expired = true;
      if (auto s = weak.lock()) s->cancel();
    });
    bool answered = false, reusable = false;
    ClientResponse response = co_await exchange(*stream, method, request, body, answered, reusable);
    timer.cancel();
    if (*expired && !response.complete) {
      response.error = "timed out after " + std::to_string(options_.timeout.count()) + " ms waiting for " + name();
    }
    if (!response.complete && reused && !answered && !*expired) {
      // The server closed the kept connection as the request went out (its idle timeout): nothing was answered,
      // so the request goes once more on a new connection.
      stream->close();
      stream.reset();
      reused = false;
      continue;
    }
    if (reusable && options_.keep_alive)
      idle_ = std::move(stream);
    else
      stream->close();
    co_return response;
  }
}

asio::awaitable<ClientResponse> Client::exchange(Stream& stream, std::string_view method,
                                                 const std::string& request, std::string_view body, bool& answered, bool& reusable) {
  ClientResponse response;
  error_code ec;
  const asio::const_buffer parts[] = {asio::buffer(request), asio::buffer(body.data(), body.size())};
  co_await stream.write(parts, ec);
  if (ec) {
    // A TLS 1.3 server judges the client's certificate after the client's handshake is done: its refusal is an
    // alert that may already be here to read.
    if (stream.is_tls()) {
      char byte;
      error_code read_ec;
      co_await stream.read_some(asio::buffer(&byte, 1), read_ec);
      if (read_ec) ec = read_ec;
    }
    response.error = "sending the request to " + name() + " failed" +
                     (stream.is_tls() ? " (TLS: " + stream.failure_reason(ec) + ")" : ": " + ec.message());
    co_return response;
  }
  ReadBuffer buffer(4096);
  ResponseHead head;
  ParseError parse_error;
  const ParseLimits limits;
  ParseStatus status = ParseStatus::Incomplete;
  while (true) {
    if (!buffer.empty()) {
      status = parse_response_head(buffer.data(), method, limits, head, parse_error);
      if (status == ParseStatus::Complete && head.status >= 100 && head.status < 200) {
        buffer.consume(head.head_size);  // an interim response: the final one follows
        continue;
      }
      if (status != ParseStatus::Incomplete) break;
    }
    std::size_t available;
    char* into = buffer.prepare(4096, available);
    const std::size_t n = co_await stream.read_some(asio::buffer(into, available), ec);
    if (ec) {
      response.error = "no complete response from " + name();
      if (ec != asio::error::eof)
        response.error += stream.is_tls() ? " (TLS: " + stream.failure_reason(ec) + ")" : ": " + ec.message();
      co_return response;
    }
    answered = true;
    buffer.commit(n);
  }
  if (status == ParseStatus::Error) {
    response.error = "malformed response from " + name() + ": " + std::string(parse_error.message);
    co_return response;
  }
  response.status = head.status;
  response.headers.reserve(head.headers.size());
  for (const auto& h : head.headers) response.headers.emplace_back(std::string(h.name), std::string(h.value));
  const bool keep_alive = head.keep_alive && head.framing != BodyFraming::UntilClose;
  BodyReader reader(head, options_.max_body);
  std::string leftover;
  const BodyReadResult result =
      co_await read_body(stream, reader, buffer.data().substr(head.head_size), response.body, leftover);
  using Outcome = BodyReadResult::Outcome;
  switch (result.outcome) {
    case Outcome::Complete:
      response.complete = true;
      // Bytes past the response (unasked for) make the connection unfit for another request.
      reusable = keep_alive && leftover.empty() &&
                 result.used_from_buffered == buffer.size() - head.head_size;
      break;
    case Outcome::Malformed:
      response.error = "malformed response body from " + name() + ": " + std::string(reader.error());
      break;
    case Outcome::TooLarge:
      response.error = "response body from " + name() + " is larger than " + std::to_string(options_.max_body) +
                       " bytes";
      break;
    case Outcome::Closed:
      response.error = "the response body from " + name() + " was cut: " +
                       (reader.failure() == BodyReader::Failure::Truncated ? std::string(reader.error())
                                                                          : stream.failure_reason(result.ec));
      break;
  }
  co_return response;
}

}  // namespace tollway::http
