#include "auth/remote/http_get.h"

#include <boost/asio/ssl.hpp>

#include "http/chunked.h"
#include "http/parser.h"
#include "http/serializer.h"
#include "http/upstream_pool.h"

namespace tollway::auth {

namespace asio = boost::asio;

asio::awaitable<HttpGetResult> http_get(const std::string& url,
                                        const std::vector<std::pair<std::string, std::string>>& headers,
                                        std::chrono::milliseconds timeout, std::size_t max_body) {
  co_return co_await http_request("GET", url, headers, {}, timeout, max_body);
}

asio::awaitable<HttpGetResult> http_request(std::string_view method, const std::string& url,
                                            const std::vector<std::pair<std::string, std::string>>& headers,
                                            std::string_view body, std::chrono::milliseconds timeout,
                                            std::size_t max_body) {
  HttpGetResult result;
  http::UpstreamEndpoint endpoint;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    endpoint.tls = true;
    endpoint.port = 443;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    endpoint.port = 80;
    rest = url.substr(7);
  } else {
    result.error = "unsupported URL scheme";
    co_return result;
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  endpoint.host = authority;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    endpoint.host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 2 < authority.size())
      endpoint.port = static_cast<uint16_t>(std::stoul(authority.substr(close + 2)));
  } else if (const auto colon = authority.find(':'); colon != std::string::npos) {
    endpoint.host = authority.substr(0, colon);
    endpoint.port = static_cast<uint16_t>(std::stoul(authority.substr(colon + 1)));
  }
  if (endpoint.tls) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_default_verify_paths();
    ctx->set_verify_mode(asio::ssl::verify_peer);
    endpoint.tls_context = ctx;
  }
  auto executor = co_await asio::this_coro::executor;
  http::UpstreamPool pool(executor, 0);
  bool timed_out = false;
  auto stream = co_await pool.connect(endpoint, timeout, result.error, timed_out);
  if (!stream) co_return result;

  asio::steady_timer deadline(executor);
  deadline.expires_after(timeout);
  bool expired = false;
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      expired = true;
      stream->cancel();
    }
  });

  std::string request;
  http::append_request_line(request, method, target);
  http::append_header(request, "Host", authority);
  http::append_header(request, "Accept", "application/json");
  http::append_header(request, "Connection", "close");
  for (const auto& [name, value] : headers) http::append_header(request, name, value);
  if (!body.empty()) {
    http::append_header(request, "Content-Type", "application/json");
    http::append_header(request, "Content-Length", std::to_string(body.size()));
  }
  http::end_head(request);
  request += body;
  http::error_code ec;
  co_await stream->write(std::string_view(request), ec);
  std::string buffer;
  http::ResponseHead head;
  http::ParseError parse_error;
  http::ParseLimits limits;
  http::ParseStatus status = http::ParseStatus::Incomplete;
  char chunk[4096];
  while (!ec) {
    status = http::parse_response_head(buffer, method, limits, head, parse_error);
    if (status != http::ParseStatus::Incomplete) break;
    const std::size_t n = co_await stream->read_some(asio::buffer(chunk), ec);
    buffer.append(chunk, n);
  }
  if (ec || status == http::ParseStatus::Error) {
    deadline.cancel();
    stream->close();
    result.error = expired ? "timed out" : (ec ? "connection failed: " + ec.message() : "malformed response head");
    co_return result;
  }
  result.status = head.status;
  std::string raw = buffer.substr(head.head_size);
  bool complete = false;
  http::ChunkedDecoder decoder;
  std::size_t decoded_upto = 0;
  while (true) {
    if (head.framing == http::BodyFraming::ContentLength) {
      if (raw.size() >= head.content_length) {
        result.body = raw.substr(0, head.content_length);
        complete = true;
      }
    } else if (head.framing == http::BodyFraming::Chunked) {
      bool failed = false;
      while (decoded_upto < raw.size() && !complete && !failed) {
        const auto step = decoder.next(std::string_view(raw).substr(decoded_upto));
        decoded_upto += step.consumed;
        if (step.status == http::ChunkedDecoder::Status::Data) result.body.append(step.data);
        else if (step.status == http::ChunkedDecoder::Status::Done) complete = true;
        else if (step.status == http::ChunkedDecoder::Status::Error) failed = true;
        else break;
      }
      if (failed) {
        result.error = "malformed chunked body";
        break;
      }
    } else if (head.framing == http::BodyFraming::None) {
      complete = true;
    }
    if (complete || raw.size() > max_body + 4096 || result.body.size() > max_body) break;
    const std::size_t n = co_await stream->read_some(asio::buffer(chunk), ec);
    if (ec) {
      if (head.framing == http::BodyFraming::UntilClose) {
        result.body = raw;
        complete = true;
      }
      break;
    }
    raw.append(chunk, n);
  }
  deadline.cancel();
  stream->close();
  if (!complete || result.body.size() > max_body) {
    if (result.error.empty()) result.error = expired ? "timed out" : "incomplete or oversized response body";
    co_return result;
  }
  result.ok = true;
  co_return result;
}

}  // namespace tollway::auth
