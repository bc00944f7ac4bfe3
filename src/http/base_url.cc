#include "http/base_url.h"

#include <charconv>

namespace tollway::http {

std::optional<BaseUrl> parse_base_url(std::string_view url, std::string& error) {
  BaseUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.port = 80;
    rest = url.substr(7);
  } else {
    error = "\"" + std::string(url) + "\" must start with http:// or https://";
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      url.find_first_of("?# \t\r\n") != std::string_view::npos) {
    error = "\"" + std::string(url) + "\" must be scheme://host[:port][/path] without user info, query or fragment";
    return std::nullopt;
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || (close + 1 < authority.size() && authority[close + 1] != ':')) {
      error = "bad IPv6 host in \"" + std::string(url) + "\"";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) port = authority.substr(close + 2);
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!port.empty() || (authority.back() == ':')) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "bad port in \"" + std::string(url) + "\" (1-65535)";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(value);
  }
  if (host.empty()) {
    error = "no host in \"" + std::string(url) + "\"";
    return std::nullopt;
  }
  out.host = std::string(host);
  out.path_prefix = std::string(prefix);
  return out;
}

}  // namespace tollway::http
