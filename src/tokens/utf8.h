// UTF-8 validation and repair for the tokenizer. Text that is not valid UTF-8 is repaired the way Node's
// TextDecoder / Buffer.toString does it (each maximal invalid subpart becomes U+FFFD), which is what a
// JavaScript or Python caller of tiktoken hands to it. Never reads past the end of its input.
#pragma once

#include <string>
#include <string_view>

namespace tollway::tokens {

// Length of the longest valid UTF-8 prefix of text (== text.size() when all of it is valid).
std::size_t valid_utf8_prefix(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return valid_utf8_prefix(text) == text.size(); }

// text with every maximal invalid subpart replaced by U+FFFD (EF BF BD).
std::string repair_utf8(std::string_view text);

}  // namespace tollway::tokens
