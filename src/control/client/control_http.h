// ControlHttp: how the control client speaks HTTP to a control plane — one request, one answer, within a timeout,
// the node's bootstrap token as a Bearer credential. A thin adapter over the HTTP/1.1 client the tree has today
// (auth::http_request), kept to this one function so that it can be swapped for src/http's client without
// touching the source. It never logs the token or a response body.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tollway::control {

struct ControlReply {
  bool ok = false;  // a complete response arrived (any status)
  int status = 0;
  std::string body;
  std::string error;  // why not ok
};

boost::asio::awaitable<ControlReply> control_request(std::string_view method, const std::string& url,
                                                     const std::string& token, std::string_view body,
                                                     std::chrono::milliseconds timeout, std::size_t max_body);

}  // namespace tollway::control
