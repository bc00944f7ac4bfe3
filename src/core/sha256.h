// SHA-256 of a byte string, for recognising files: rank files checked against OpenAI's published digests, config
// versions. Dependency-free so that pure libraries can use it without initialising OpenSSL. Not a general
// crypto API: never use it for secrets or MACs (no constant-time guarantees).
#pragma once

#include <string>
#include <string_view>

namespace tollway {

// Lower-case hex digest.
std::string sha256_hex(std::string_view data);

}  // namespace tollway
