// Base64url (RFC 4648 §5) without padding, as JOSE uses it. Decoding is strict: no padding, no whitespace, no
// characters outside the URL-safe alphabet, no length of 1 mod 4, and the unused low bits of the last
// character must be zero (so every byte string has exactly one encoding). Pure; never logs its input.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::auth {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tollway::auth
