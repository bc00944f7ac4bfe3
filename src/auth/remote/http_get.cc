#include "auth/remote/http_get.h"

#include <boost/asio/ssl.hpp>

#include "http/client.h"

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
  http::Client client(co_await asio::this_coro::executor, std::move(endpoint),
                      http::ClientOptions{timeout, max_body, /*keep_alive=*/false});
  http::HeaderPairs request_headers{{"Accept", "application/json"}};
  request_headers.insert(request_headers.end(), headers.begin(), headers.end());
  if (!body.empty()) request_headers.emplace_back("Content-Type", "application/json");
  http::ClientResponse response = co_await client.request(method, target, request_headers, body);
  result.status = response.status;
  if (!response.complete) {
    result.error = std::move(response.error);
    co_return result;
  }
  result.body = std::move(response.body);
  result.ok = true;
  co_return result;
}

}  // namespace tollway::auth
