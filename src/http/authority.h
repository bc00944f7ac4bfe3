// The authority of a forward proxy's request target (RFC 9112 section 3.2.2 absolute-form `http://HOST[:PORT]/…`,
// section 3.2.3 authority-form `HOST:PORT` of CONNECT), read strictly: a DNS-style name, an IPv4 literal or a
// bracketed IPv6 literal, and a decimal port 1-65535. It never accepts userinfo (`user@`), percent-encoding, an
// empty host or a port with a sign, leading zeros beyond one digit or more than five digits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::http {

struct Authority {
  std::string_view host;  // as written; an IPv6 literal without its brackets
  uint16_t port = 0;      // 0 when the authority names none
};

// Nullopt with `error` set (a sentence naming what is wrong) when `text` is not HOST[:PORT].
std::optional<Authority> parse_authority(std::string_view text, std::string_view& error);

// `host` with ASCII letters lowered: host names compare case-insensitively (RFC 3986 section 3.2.2).
std::string lowercase_host(std::string_view host);

}  // namespace tollway::http
