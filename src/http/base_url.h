// BaseUrl: a service's base URL as tollway's own clients take it on the command line (a control plane:
// http[s]://HOST[:PORT][/PREFIX]) split into what http::Client connects to and the path prefix requests go under.
// It never resolves the host and never accepts user info, a query or a fragment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::http {

struct BaseUrl {
  bool tls = false;
  std::string host;   // without brackets for IPv6
  uint16_t port = 0;  // 80 or 443 when the URL names none
  std::string path_prefix;  // "" or "/a/b", no trailing '/'
};

// nullopt with `error` for another scheme, an empty host, a bad port, user info, a query or a fragment.
std::optional<BaseUrl> parse_base_url(std::string_view url, std::string& error);

}  // namespace tollway::http
