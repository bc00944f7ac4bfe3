// Byte classes of HTTP/1.1 syntax (RFC 9110 section 5.6, RFC 3986) as one 256-entry table, shared by the head
// parser and the chunked decoder. Internal to src/http; it must never accept a byte the RFC grammar excludes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tollway::http {

namespace char_class {
inline constexpr uint8_t kTchar = 1;       // token character
inline constexpr uint8_t kTargetChar = 2;  // origin-form byte other than '%' (pchar / "/" / "?")
inline constexpr uint8_t kFieldValue = 4;  // field-content byte: VCHAR, obs-text, SP, HTAB
inline constexpr uint8_t kHexDigit = 8;    // HEXDIG
inline constexpr uint8_t kHostChar = 16;   // uri-host / port byte: unreserved, sub-delims, ":", "[", "]", "%"
inline constexpr uint8_t kQuotedText = 32;  // qdtext: HTAB, SP, VCHAR except '"' and '\', obs-text

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> table{};
  auto add = [&table](std::string_view chars, uint8_t cls) {
    for (char c : chars) table[static_cast<unsigned char>(c)] |= cls;
  };
  constexpr std::string_view kDigits = "0123456789";
  constexpr std::string_view kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::string_view kUnreservedMarks = "-._~";
  constexpr std::string_view kSubDelims = "!$&'()*+,;=";
  add(kDigits, kTchar | kTargetChar | kHostChar | kHexDigit);
  add(kAlpha, kTchar | kTargetChar | kHostChar);
  add("ABCDEFabcdef", kHexDigit);
  add("!#$%&'*+-.^_`|~", kTchar);
  add(kUnreservedMarks, kTargetChar | kHostChar);
  add(kSubDelims, kTargetChar | kHostChar);
  add(":@/?", kTargetChar);
  add(":[]%", kHostChar);
  for (int c = 0x21; c <= 0x7e; ++c) table[c] |= kFieldValue;
  for (int c = 0x80; c <= 0xff; ++c) table[c] |= kFieldValue | kQuotedText;
  table[' '] |= kFieldValue | kQuotedText;
  table['\t'] |= kFieldValue | kQuotedText;
  for (int c = 0x21; c <= 0x7e; ++c) {
    if (c != '"' && c != '\\') table[c] |= kQuotedText;
  }
  return table;
}

inline constexpr std::array<uint8_t, 256> kTable = make_table();
}  // namespace char_class

inline bool is_tchar(unsigned char c) {
  return char_class::kTable[c] & char_class::kTchar;
}
inline bool is_target_char(unsigned char c) {
  return char_class::kTable[c] & char_class::kTargetChar;
}
inline bool is_field_value_char(unsigned char c) {
  return char_class::kTable[c] & char_class::kFieldValue;
}
inline bool is_hex_digit(unsigned char c) {
  return char_class::kTable[c] & char_class::kHexDigit;
}
inline bool is_host_char(unsigned char c) {
  return char_class::kTable[c] & char_class::kHostChar;
}
inline bool is_quoted_text(unsigned char c) {
  return char_class::kTable[c] & char_class::kQuotedText;
}
inline bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

}  // namespace tollway::http
