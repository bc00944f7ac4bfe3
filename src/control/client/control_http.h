// ControlHttp: how the control client speaks HTTP to a control plane — one request, one answer, within a timeout;
// over https with the node's identity (its SVID as the client certificate, which alone authenticates the node, the
// control plane verified against --control-ca and the node's bundle and required to present `peer_spiffe_id`) when a
// TLS context is given, else with the node's bootstrap token as a Bearer credential, as auth::http_request does
// (system CAs for https). An empty token sends no Authorization header. It never logs the token or a response
// body, and never sends either to a control plane that presents another SPIFFE ID.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
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
                                                     std::chrono::milliseconds timeout, std::size_t max_body,
                                                     std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                                                     std::string peer_spiffe_id = {});

}  // namespace tollway::control
