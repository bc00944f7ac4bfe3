// HttpGet: one HTTP/1.1 GET (or a POST of a small JSON body) to a small JSON endpoint (a JWKS URL, HashiCorp
// Vault, the control plane) with a timeout, over TCP or TLS (system CAs, certificate and host verification), sent by
// http::Client on a connection of its own. Used
// by background refreshers on the control thread; never called on the request path. Bodies are capped; response bytes and request headers (tokens) are never
// logged or put into errors.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollway::auth {

struct HttpGetResult {
  bool ok = false;       // a complete response arrived (any status)
  int status = 0;
  std::string body;
  std::string error;     // why not ok: a sentence naming host and cause
};

boost::asio::awaitable<HttpGetResult> http_get(const std::string& url,
                                               const std::vector<std::pair<std::string, std::string>>& headers,
                                               std::chrono::milliseconds timeout, std::size_t max_body = 1 << 20);

// The same with any method; a non-empty `body` is sent as application/json with its Content-Length.
boost::asio::awaitable<HttpGetResult> http_request(std::string_view method, const std::string& url,
                                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                                   std::string_view body, std::chrono::milliseconds timeout,
                                                   std::size_t max_body = 1 << 20);

}  // namespace tollway::auth
