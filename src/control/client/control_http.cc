#include "control/client/control_http.h"

#include "auth/remote/http_get.h"
#include "http/base_url.h"
#include "http/client.h"

namespace tollway::control {

boost::asio::awaitable<ControlReply> control_request(std::string_view method, const std::string& url,
                                                     const std::string& token, std::string_view body,
                                                     std::chrono::milliseconds timeout, std::size_t max_body,
                                                     std::shared_ptr<boost::asio::ssl::context> tls) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("Authorization", "Bearer " + token);
  if (tls && url.starts_with("https://")) {
    // With the node's identity: its client context; the URL's path and query go as they are.
    const std::size_t authority_end = url.find_first_of("/?", 8);
    std::string error;
    const auto base = http::parse_base_url(url.substr(0, authority_end), error);
    if (!base) co_return ControlReply{false, 0, "", error};
    const std::string target = authority_end == std::string::npos ? "/" : url.substr(authority_end);
    http::Client client(co_await boost::asio::this_coro::executor,
                        http::UpstreamEndpoint{base->host, base->port, true, std::move(tls), ""},
                        http::ClientOptions{timeout, max_body, /*keep_alive=*/false});
    headers.emplace_back("Accept", "application/json");
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    http::ClientResponse response = co_await client.request(method, target, headers, body);
    if (!response.complete) co_return ControlReply{false, response.status, "", std::move(response.error)};
    co_return ControlReply{true, response.status, std::move(response.body), ""};
  }
  auth::HttpGetResult r = co_await auth::http_request(method, url, headers, body, timeout, max_body);
  co_return ControlReply{r.ok, r.status, std::move(r.body), std::move(r.error)};
}

}  // namespace tollway::control
