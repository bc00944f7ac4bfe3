#include "core/json.h"

#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdio>

namespace tollway::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  uint32_t min;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) { len = 2; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  uint32_t cp = b0 & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Eight bytes at a time (SWAR): a mask with the high bit set in every byte that needs attention (control
// byte, DEL, non-ASCII, '"' or '\\'). A byte's flag can be set spuriously only above a truly flagged byte
// (subtraction borrows run upward), so the lowest flag is always exact.
uint64_t attention_bytes(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const auto zero_bytes = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return (w & kHigh) | ((w - kOnes * 0x20) & ~w & kHigh) | zero_bytes(w ^ (kOnes * 0x7F)) |
         zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\'));
}

constexpr std::array<bool, 256> kNeedsAttention = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c < 0x20 || c >= 0x7F || c == '"' || c == '\\';
  return table;
}();

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  const std::size_t start = out.size();
  out.resize(start + 2 + 6 * s.size());
  char* p = out.data() + start;
  *p++ = '"';
  p = escape_to(p, s);
  *p++ = '"';
  out.resize(static_cast<std::size_t>(p - out.data()));
}

char* escape_to(char* out, std::string_view s) {
  static_assert(std::endian::native == std::endian::little, "the SWAR scan reads the lowest byte first");
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* const end = p + s.size();
  while (true) {
    // Bytes copied as they are: eight at a time while eight remain — each word is stored before it is checked,
    // which stays within the 6 * size() room because a word is only read with eight input bytes left — then one
    // at a time. Stops at the first byte that needs attention.
    bool found = false;
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      std::memcpy(out, &word, 8);
      if (const uint64_t flags = attention_bytes(word)) {
        const auto clean = static_cast<std::size_t>(std::countr_zero(flags)) / 8;
        p += clean;
        out += clean;
        found = true;
        break;
      }
      p += 8;
      out += 8;
    }
    if (!found) {
      while (p < end && !kNeedsAttention[static_cast<unsigned char>(*p)]) *out++ = *p++;
      if (p == end) return out;
    }
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, static_cast<std::size_t>(p - s.data()));
      if (len == 0) {
        std::memcpy(out, "\xEF\xBF\xBD", 3);  // U+FFFD for an invalid byte
        out += 3;
        ++p;
      } else {
        std::memcpy(out, p, len);
        out += len;
        p += len;
      }
      continue;
    }
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      default:
        std::memcpy(out, "u00", 3);
        out[3] = kHex[c >> 4];
        out[4] = kHex[c & 0xF];
        out += 5;
    }
    ++p;
  }
}

std::string quoted(std::string_view s) {
  std::string out;
  append_quoted(out, s);
  return out;
}

void ObjectWriter::key(std::string_view k) {
  if (text_.size() > 1) text_.push_back(',');
  append_quoted(text_, k);
  text_.push_back(':');
}

ObjectWriter& ObjectWriter::field(std::string_view k, std::string_view value) {
  key(k);
  append_quoted(text_, value);
  return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, int64_t value) {
  key(k);
  char buf[24];
  text_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, uint64_t value) {
  key(k);
  char buf[24];
  text_.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
  return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    text_ += "null";
  } else {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, value);  // shortest text that reads back as `value`
    text_.append(buf, res.ptr);
  }
  return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}

ObjectWriter& ObjectWriter::null_field(std::string_view k) {
  key(k);
  text_ += "null";
  return *this;
}

ObjectWriter& ObjectWriter::raw_field(std::string_view k, std::string_view json_value) {
  key(k);
  text_ += json_value;
  return *this;
}

std::string ObjectWriter::finish() && {
  text_.push_back('}');
  return std::move(text_);
}

}  // namespace tollway::json
