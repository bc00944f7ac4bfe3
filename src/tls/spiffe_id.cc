#include "tls/spiffe_id.h"

namespace tollway::tls {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool is_trust_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

std::string quoted_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 15];
}

// Why `c` cannot appear where it does, naming the URI part it would start when that is the reason.
std::string invalid_char(std::string_view where, char c) {
  switch (c) {
    case '%': return std::string(where) + " is percent-encoded (not allowed)";
    case '?': return "a SPIFFE ID has no query";
    case '#': return "a SPIFFE ID has no fragment";
    default: break;
  }
  if (where == "trust domain" && c >= 'A' && c <= 'Z') return "trust domain must be lowercase";
  return std::string(where) + " has an invalid character " + quoted_char(c);
}

}  // namespace

std::string SpiffeId::check_trust_domain(std::string_view name) {
  if (name.empty()) return "trust domain is empty";
  if (name.size() > kMaxTrustDomainLength) return "trust domain is longer than 255 bytes";
  for (char c : name)
    if (!is_trust_domain_char(c)) return invalid_char("trust domain", c);
  return "";
}

std::string SpiffeId::check_path(std::string_view path) {
  if (path.empty()) return "";
  if (path.front() != '/') return "path must start with '/'";
  std::size_t segment_start = 1;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') {
      if (!is_path_char(path[i])) return invalid_char("path", path[i]);
      continue;
    }
    const std::string_view segment = path.substr(segment_start, i - segment_start);
    if (segment.empty()) return i == path.size() ? "path has a trailing '/'" : "path has an empty segment";
    if (segment == "." || segment == "..") return "path has a relative segment '" + std::string(segment) + "'";
    segment_start = i + 1;
  }
  return "";
}

std::optional<SpiffeId> SpiffeId::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<SpiffeId> {
    if (error != nullptr) *error = std::move(reason);
    return std::nullopt;
  };
  if (text.empty()) return fail("SPIFFE ID is empty");
  if (text.size() > kMaxLength) return fail("SPIFFE ID is longer than 2048 bytes");
  if (text.substr(0, kScheme.size()) != kScheme) {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.substr(0, colon) == "spiffe")
      return fail("scheme must be followed by \"://\"");
    if (colon != std::string_view::npos && colon == 6) {
      bool spiffe_any_case = true;
      for (std::size_t i = 0; i < 6; ++i)
        spiffe_any_case = spiffe_any_case && (text[i] | 0x20) == kScheme[i];
      if (spiffe_any_case) return fail("scheme must be lowercase \"spiffe\"");
    }
    return fail("scheme must be \"spiffe\"");
  }
  const std::string_view rest = text.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view trust_domain = rest.substr(0, slash);
  // Name the URI part the authority holds besides a host, whatever character comes first.
  if (trust_domain.find('@') != std::string_view::npos) return fail("a SPIFFE ID has no userinfo");
  if (!trust_domain.empty() && trust_domain.front() == '[')
    return fail("trust domain cannot be an IPv6 address");
  if (trust_domain.find(':') != std::string_view::npos) return fail("a SPIFFE ID has no port");
  if (std::string reason = check_trust_domain(trust_domain); !reason.empty()) return fail(std::move(reason));
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (std::string reason = check_path(path); !reason.empty()) return fail(std::move(reason));
  return SpiffeId(std::string(text), kScheme.size() + trust_domain.size());
}

}  // namespace tollway::tls
