// SHA-256 of a byte string, used to check rank files against OpenAI's published digests before they are
// trusted. Not a general crypto API: never use it for secrets (no constant-time guarantees are needed here).
#pragma once

#include <string>
#include <string_view>

namespace tollway::tokens {

// Lower-case hex digest.
std::string sha256_hex(std::string_view data);

}  // namespace tollway::tokens
