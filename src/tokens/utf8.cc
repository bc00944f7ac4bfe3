#include "tokens/utf8.h"

#include <cstdint>
#include <cstring>

namespace tollway::tokens {
namespace {

// Length of the valid sequence starting at p (1..4), or 0 with *bad = length of the maximal invalid subpart.
std::size_t sequence_length(const unsigned char* p, std::size_t avail, std::size_t* bad) {
  const unsigned char b = p[0];
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) need = 1;
  else if (b == 0xE0) { need = 2; lo = 0xA0; }
  else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
  else if (b == 0xED) { need = 2; hi = 0x9F; }
  else if (b == 0xF0) { need = 3; lo = 0x90; }
  else if (b >= 0xF1 && b <= 0xF3) need = 3;
  else if (b == 0xF4) { need = 3; hi = 0x8F; }
  else { *bad = 1; return 0; }
  std::size_t i = 1;
  for (; i <= need; ++i) {
    if (i >= avail) { *bad = i; return 0; }
    const unsigned char c = p[i];
    const unsigned char l = (i == 1) ? lo : 0x80, h = (i == 1) ? hi : 0xBF;
    if (c < l || c > h) { *bad = i; return 0; }
  }
  return need + 1;
}

}  // namespace

std::size_t valid_utf8_prefix(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) { i += 8; continue; }
    }
    std::size_t bad = 0;
    const std::size_t len = sequence_length(p + i, n - i, &bad);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

std::string repair_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t good = valid_utf8_prefix(text.substr(i));
    out.append(text.substr(i, good));
    i += good;
    if (i >= n) break;
    std::size_t bad = 0;
    sequence_length(p + i, n - i, &bad);
    out.append("\xEF\xBF\xBD");
    i += bad;
  }
  return out;
}

}  // namespace tollway::tokens
