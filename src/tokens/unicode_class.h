// Character classes of code points as tiktoken's split regexes see them (Unicode 16.0, the version npm tiktoken
// 1.0.22 is built with), plus a UTF-8 reader for one code point. Must never be handed invalid UTF-8: callers
// sanitize input first (utf8.h); it never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tollway::tokens {

// Lu|Lt, Ll, Lm|Lo are separate because o200k_base splits words by case; Mark is not a letter (\p{L}).
enum class CharClass : std::uint8_t { Other = 0, Whitespace = 1, Upper = 2, Lower = 3, OtherLetter = 4, Mark = 5, Number = 6 };

namespace detail {
extern const std::uint16_t kClassBlockIndex[0x110000 / 128];
extern const std::uint8_t kClassBlocks[][128];
}  // namespace detail

inline CharClass char_class(char32_t cp) {
  return static_cast<CharClass>(detail::kClassBlocks[detail::kClassBlockIndex[cp >> 7]][cp & 127]);
}

inline bool is_letter(CharClass c) { return c == CharClass::Upper || c == CharClass::Lower || c == CharClass::OtherLetter; }

// One code point read from valid UTF-8.
struct CodePoint {
  char32_t value;
  std::uint32_t length;  // bytes, 1..4
};

inline CodePoint read_code_point(const unsigned char* p) {
  const unsigned char b = p[0];
  if (b < 0x80) return {b, 1};
  if (b < 0xE0) return {static_cast<char32_t>(((b & 0x1F) << 6) | (p[1] & 0x3F)), 2};
  if (b < 0xF0) return {static_cast<char32_t>(((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)), 3};
  return {static_cast<char32_t>(((b & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F)), 4};
}

}  // namespace tollway::tokens
