#include "control/client/control_http.h"

#include "auth/remote/http_get.h"
#include "http/base_url.h"
#include "http/client.h"

namespace tollway::control {

boost::asio::awaitable<ControlReply> control_request(std::string_view method, const std::string& url,
                                                     const std::string& token, std::string_view body,
                                                     std::chrono::milliseconds timeout, std::size_t max_body,
                                                     std::shared_ptr<boost::asio::ssl::context> tls,
                                                     std::string peer_spiffe_id) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);  // "" = the client certificate
  if (tls && url.starts_with("https://")) {
    // With the node's identity: its client context; the URL's path and query go as they are.
    const std::size_t authority_end = url.find_first_of("/?", 8);
    std::string error;
    const auto base = http::parse_base_url(url.substr(0, authority_end), error);
    if (!base) {
      ControlReply reply;
      reply.error = error;
      co_return reply;
    }
    const std::string target = authority_end == std::string::npos ? "/" : url.substr(authority_end);
    // Named, not braced temporaries beside the co_await: GCC 12 frees those twice in a coroutine.
    http::UpstreamEndpoint endpoint;
    endpoint.host = base->host;
    endpoint.port = base->port;
    endpoint.tls = true;
    endpoint.tls_context = std::move(tls);
    endpoint.peer_spiffe_id = std::move(peer_spiffe_id);
    const auto executor = co_await boost::asio::this_coro::executor;
    http::Client client(executor, std::move(endpoint), http::ClientOptions{timeout, max_body, /*keep_alive=*/false});
    headers.emplace_back("Accept", "application/json");
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    http::ClientResponse response = co_await client.request(method, target, headers, body);
    ControlReply reply;
    reply.ok = response.complete;
    reply.status = response.status;
    if (response.complete) reply.body = std::move(response.body);
    else reply.error = std::move(response.error);
    co_return reply;
  }
  auth::HttpGetResult r = co_await auth::http_request(method, url, headers, body, timeout, max_body);
  co_return ControlReply{r.ok, r.status, std::move(r.body), std::move(r.error)};
}

}  // namespace tollway::control
