#include "http/authority.h"

namespace tollway::http {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

}  // namespace

std::optional<Authority> parse_authority(std::string_view text, std::string_view& error) {
  Authority out;
  std::string_view rest;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "IPv6 literal in the authority has no closing ']'";
      return std::nullopt;
    }
    out.host = text.substr(1, close - 1);
    if (out.host.find(':') == std::string_view::npos) {
      error = "bracketed host in the authority is not an IPv6 literal";
      return std::nullopt;
    }
    for (char c : out.host) {
      if (!is_ipv6_char(c)) {
        error = "invalid character in the authority's IPv6 literal";
        return std::nullopt;
      }
    }
    rest = text.substr(close + 1);
  } else {
    const std::size_t colon = text.find(':');
    out.host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    for (char c : out.host) {
      if (c == '@') {
        error = "userinfo ('@') in the authority is not accepted";
        return std::nullopt;
      }
      if (c == '%') {
        error = "percent-encoding in the authority's host is not accepted";
        return std::nullopt;
      }
      if (!is_name_char(c)) {
        error = "invalid character in the authority's host";
        return std::nullopt;
      }
    }
  }
  if (out.host.empty()) {
    error = "the authority has no host";
    return std::nullopt;
  }
  if (rest.empty()) return out;
  if (rest.front() != ':') {
    error = "unexpected characters after the authority's host";
    return std::nullopt;
  }
  const std::string_view digits = rest.substr(1);
  if (digits.empty() || digits.size() > 5 || (digits.size() > 1 && digits.front() == '0')) {
    error = "the authority's port must be a decimal number from 1 to 65535";
    return std::nullopt;
  }
  uint32_t port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      error = "the authority's port must be a decimal number from 1 to 65535";
      return std::nullopt;
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) {
    error = "the authority's port must be a decimal number from 1 to 65535";
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::string lowercase_host(std::string_view host) {
  std::string out(host);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

}  // namespace tollway::http
