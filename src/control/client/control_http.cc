#include "control/client/control_http.h"

#include "auth/remote/http_get.h"

namespace tollway::control {

boost::asio::awaitable<ControlReply> control_request(std::string_view method, const std::string& url,
                                                     const std::string& token, std::string_view body,
                                                     std::chrono::milliseconds timeout, std::size_t max_body) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("Authorization", "Bearer " + token);
  auth::HttpGetResult r = co_await auth::http_request(method, url, headers, body, timeout, max_body);
  co_return ControlReply{r.ok, r.status, std::move(r.body), std::move(r.error)};
}

}  // namespace tollway::control
