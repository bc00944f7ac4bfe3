// The three split regexes, rewritten as scanners. Each function documents the regex alternative it stands for.
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   cl100k: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
//           |\s*[\r\n]+|\s+(?!\S)|\s+
//   o200k:  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...|'d)?
//           |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...|'d)?
//           |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
#include "tokens/pretokenizer.h"

#include <cstring>

#include "tokens/unicode_class.h"

namespace tollway::tokens {
namespace {

struct Scan {
  const unsigned char* s;
  std::size_t n;

  struct Char {
    char32_t cp;
    std::uint32_t len;
    CharClass cls;
  };

  Char at(std::size_t i) const {
    const CodePoint c = read_code_point(s + i);
    return {c.value, c.length, char_class(c.value)};
  }
};

bool is_newline(char32_t c) { return c == '\r' || c == '\n'; }
// [^\s\p{L}\p{N}]: marks count here (they are not \p{L}).
bool is_symbol(CharClass c) { return c == CharClass::Other || c == CharClass::Mark; }
// [^\r\n\p{L}\p{N}]
bool is_prefix(const Scan::Char& c) {
  return !is_newline(c.cp) && !is_letter(c.cls) && c.cls != CharClass::Number;
}
// o200k: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
bool is_upper_side(CharClass c) { return c == CharClass::Upper || c == CharClass::OtherLetter || c == CharClass::Mark; }
bool is_lower_side(CharClass c) { return c == CharClass::Lower || c == CharClass::OtherLetter || c == CharClass::Mark; }

template <class Pred>
std::size_t run_end(const Scan& sc, std::size_t i, Pred pred) {
  while (i < sc.n) {
    const Scan::Char c = sc.at(i);
    if (!pred(c)) break;
    i += c.len;
  }
  return i;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0. Case-insensitive variants also accept
// U+017F LATIN SMALL LETTER LONG S, which Unicode case folding maps to 's'.
std::size_t contraction_length(const Scan& sc, std::size_t i, bool ignore_case) {
  if (i >= sc.n || sc.s[i] != '\'' || i + 1 >= sc.n) return 0;
  auto lower = [&](std::size_t k) -> unsigned char {
    if (k >= sc.n) return 0;
    const unsigned char b = sc.s[k];
    return (ignore_case && b >= 'A' && b <= 'Z') ? static_cast<unsigned char>(b + 32) : b;
  };
  const unsigned char a = lower(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (ignore_case && sc.s[i + 1] == 0xC5 && i + 2 < sc.n && sc.s[i + 2] == 0xBF) return 3;  // 'ſ
  const unsigned char b = lower(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S) then \s+ : a whitespace run keeps its last character for the next piece unless the run ends the
// text; a run of one character is a piece by itself.
std::size_t whitespace_tail(const Scan& sc, std::size_t i) {
  std::size_t last_start = i, j = i;
  while (j < sc.n) {
    const Scan::Char c = sc.at(j);
    if (c.cls != CharClass::Whitespace) break;
    last_start = j;
    j += c.len;
  }
  if (j == sc.n) return j;
  if (last_start > i) return last_start;
  return j;
}

// \s*[\r\n]+ : up to and including the last newline of the whitespace run at i, or 0 if it has none.
std::size_t whitespace_to_newline(const Scan& sc, std::size_t i) {
  std::size_t end = 0;
  while (i < sc.n) {
    const Scan::Char c = sc.at(i);
    if (c.cls != CharClass::Whitespace) break;
    i += c.len;
    if (is_newline(c.cp)) end = i;
  }
  return end;
}

std::size_t gpt2_piece(const Scan& sc, std::size_t i) {
  if (const std::size_t k = contraction_length(sc, i, false)) return i + k;
  const Scan::Char c = sc.at(i);
  std::size_t j = i;
  Scan::Char d = c;
  if (c.cp == ' ' && i + 1 < sc.n) {
    d = sc.at(i + 1);
    j = i + 1;
    if (!(is_letter(d.cls) || d.cls == CharClass::Number || is_symbol(d.cls))) { j = i; d = c; }
  }
  if (is_letter(d.cls)) return run_end(sc, j, [](const Scan::Char& x) { return is_letter(x.cls); });
  if (d.cls == CharClass::Number) return run_end(sc, j, [](const Scan::Char& x) { return x.cls == CharClass::Number; });
  if (is_symbol(d.cls)) return run_end(sc, j, [](const Scan::Char& x) { return is_symbol(x.cls); });
  return whitespace_tail(sc, i);
}

std::size_t symbol_piece(const Scan& sc, std::size_t i, bool slash_too) {
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (o200k: `[\r\n/]*`); the caller checked the symbol run is not empty.
  std::size_t j = run_end(sc, i, [](const Scan::Char& x) { return is_symbol(x.cls); });
  while (j < sc.n && (sc.s[j] == '\r' || sc.s[j] == '\n' || (slash_too && sc.s[j] == '/'))) ++j;
  return j;
}

std::size_t whitespace_piece(const Scan& sc, std::size_t i) {
  if (const std::size_t e = whitespace_to_newline(sc, i)) return e;
  return whitespace_tail(sc, i);
}

std::size_t cl100k_piece_general(const Scan& sc, std::size_t i) {
  if (const std::size_t k = contraction_length(sc, i, true)) return i + k;
  const Scan::Char c = sc.at(i);
  auto letters = [](const Scan::Char& x) { return is_letter(x.cls); };
  if (is_letter(c.cls)) return run_end(sc, i + c.len, letters);
  if (is_prefix(c) && i + c.len < sc.n) {
    const Scan::Char d = sc.at(i + c.len);
    if (is_letter(d.cls)) return run_end(sc, i + c.len + d.len, letters);
  }
  if (c.cls == CharClass::Number) {
    std::size_t j = i + c.len;
    for (int k = 0; k < 2 && j < sc.n; ++k) {
      const Scan::Char d = sc.at(j);
      if (d.cls != CharClass::Number) break;
      j += d.len;
    }
    return j;
  }
  if (c.cp == ' ' && i + 1 < sc.n && is_symbol(sc.at(i + 1).cls)) return symbol_piece(sc, i + 1, false);
  if (is_symbol(c.cls)) return symbol_piece(sc, i, false);
  return whitespace_piece(sc, i);
}

// o200k first alternative body from s: [A]*[B]+ with A = Lu|Lt|Lm|Lo|M, B = Ll|Lm|Lo|M; 0 when it fails.
std::size_t o200k_case_word(const Scan& sc, std::size_t s) {
  std::size_t a = s, last_b_end = 0;
  while (a < sc.n) {
    const Scan::Char c = sc.at(a);
    if (!is_upper_side(c.cls)) break;
    a += c.len;
    if (is_lower_side(c.cls)) last_b_end = a;
  }
  if (a < sc.n && is_lower_side(sc.at(a).cls))
    return run_end(sc, a, [](const Scan::Char& x) { return is_lower_side(x.cls); });
  return last_b_end;
}

// o200k second alternative body from s: [A]+[B]*; 0 when it fails.
std::size_t o200k_upper_word(const Scan& sc, std::size_t s) {
  const std::size_t a = run_end(sc, s, [](const Scan::Char& x) { return is_upper_side(x.cls); });
  if (a == s) return 0;
  return run_end(sc, a, [](const Scan::Char& x) { return is_lower_side(x.cls); });
}

std::size_t o200k_piece_general(const Scan& sc, std::size_t i) {
  const Scan::Char c = sc.at(i);
  const bool prefix = is_prefix(c) && i + c.len < sc.n;
  std::size_t e = 0;
  if (prefix) e = o200k_case_word(sc, i + c.len);
  if (!e) e = o200k_case_word(sc, i);
  if (!e && prefix) e = o200k_upper_word(sc, i + c.len);
  if (!e) e = o200k_upper_word(sc, i);
  if (e) return e + contraction_length(sc, e, true);
  if (c.cls == CharClass::Number) {
    std::size_t j = i + c.len;
    for (int k = 0; k < 2 && j < sc.n; ++k) {
      const Scan::Char d = sc.at(j);
      if (d.cls != CharClass::Number) break;
      j += d.len;
    }
    return j;
  }
  if (c.cp == ' ' && i + 1 < sc.n && is_symbol(sc.at(i + 1).cls)) return symbol_piece(sc, i + 1, true);
  if (is_symbol(c.cls)) return symbol_piece(sc, i, true);
  return whitespace_piece(sc, i);
}

// ASCII fast paths. Classes of the 128 ASCII code points, from the same table as everything else.
struct AsciiClasses {
  CharClass of[128];
  AsciiClasses() {
    for (char32_t c = 0; c < 128; ++c) of[c] = char_class(c);
  }
};
const AsciiClasses kAscii;

bool ascii_letter(unsigned char b) { return b < 0x80 && is_letter(kAscii.of[b]); }

// High bit of each byte of w that lies in [lo, hi] (ASCII), others 0. Per-byte sums cannot carry: the high bits
// are cleared first and the addends are below 0x80.
constexpr std::uint64_t kEveryByte = 0x0101010101010101ULL;
template <unsigned char lo, unsigned char hi>
std::uint64_t bytes_in_range(std::uint64_t w) {
  const std::uint64_t low7 = w & (0x7F * kEveryByte);
  const std::uint64_t at_least_lo = low7 + (0x80 - lo) * kEveryByte;
  const std::uint64_t above_hi = low7 + (0x80 - (hi + 1)) * kEveryByte;
  return at_least_lo & ~above_hi & ~w & (0x80 * kEveryByte);
}

// End of the run of ASCII letters of the given cases that starts at j (8 bytes per step).
template <bool upper, bool lower>
std::size_t ascii_case_run(const Scan& sc, std::size_t j) {
  for (; j + 8 <= sc.n; j += 8) {
    std::uint64_t w;
    std::memcpy(&w, sc.s + j, 8);
    std::uint64_t in = 0;
    if (upper) in |= bytes_in_range<'A', 'Z'>(w);
    if (lower) in |= bytes_in_range<'a', 'z'>(w);
    const std::uint64_t out = ~in & (0x80 * kEveryByte);
    if (out) return j + static_cast<std::size_t>(__builtin_ctzll(out)) / 8;
  }
  while (j < sc.n && ((upper && sc.s[j] >= 'A' && sc.s[j] <= 'Z') || (lower && sc.s[j] >= 'a' && sc.s[j] <= 'z'))) ++j;
  return j;
}
bool ascii_symbol(unsigned char b) { return b < 0x80 && is_symbol(kAscii.of[b]); }

// The ASCII pieces below end where the regex ends them only if the byte that stops them is ASCII (a non-ASCII
// letter, mark, digit or symbol could continue the run). They return 0 when it is not, and the caller then takes
// the general path from the start of the piece.
std::size_t ascii_stop(const Scan& sc, std::size_t j) { return j < sc.n && sc.s[j] >= 0x80 ? 0 : j; }

// \p{N}{1,3} from a digit at i.
std::size_t ascii_digits(const Scan& sc, std::size_t i) {
  std::size_t j = i + 1;
  while (j < sc.n && j < i + 3 && sc.s[j] >= '0' && sc.s[j] <= '9') ++j;
  return j == i + 3 ? j : ascii_stop(sc, j);
}

// [^\s\p{L}\p{N}]+ then [\r\n]* (o200k: [\r\n/]*) from a symbol at j.
std::size_t ascii_symbols(const Scan& sc, std::size_t j, bool slash_too) {
  while (j < sc.n && ascii_symbol(sc.s[j])) ++j;
  if (!ascii_stop(sc, j)) return 0;
  while (j < sc.n && (sc.s[j] == '\r' || sc.s[j] == '\n' || (slash_too && sc.s[j] == '/'))) ++j;
  return j;
}

// Where the letters of a word start when the piece at i is `[^\r\n\p{L}\p{N}]?` + letters, all ASCII; else npos.
std::size_t ascii_word_start(const Scan& sc, std::size_t i) {
  const unsigned char b = sc.s[i];
  if (ascii_letter(b)) return i;
  if (b >= 0x80 || b == '\r' || b == '\n' || kAscii.of[b] == CharClass::Number) return std::string_view::npos;
  return i + 1 < sc.n && ascii_letter(sc.s[i + 1]) ? i + 1 : std::string_view::npos;
}

std::size_t cl100k_piece(const Scan& sc, std::size_t i) {
  const unsigned char b = sc.s[i];
  if (b < 0x80 && b != '\'') {
    std::size_t e = 0;
    if (const std::size_t w = ascii_word_start(sc, i); w != std::string_view::npos) {
      e = ascii_stop(sc, ascii_case_run<true, true>(sc, w));
    } else if (b >= '0' && b <= '9') {
      e = ascii_digits(sc, i);
    } else if (b == ' ' && i + 1 < sc.n && ascii_symbol(sc.s[i + 1])) {
      e = ascii_symbols(sc, i + 1, false);
    } else if (ascii_symbol(b)) {
      e = ascii_symbols(sc, i, false);
    }
    if (e) return e;
  }
  return cl100k_piece_general(sc, i);
}

std::size_t o200k_piece(const Scan& sc, std::size_t i) {
  const unsigned char b = sc.s[i];
  if (b < 0x80) {
    std::size_t e = 0;
    if (const std::size_t w = ascii_word_start(sc, i); w != std::string_view::npos) {
      // [A]*[B]+ | [A]+[B]* on ASCII: the uppercase run, then the lowercase run, is the longest match of both.
      const std::size_t j = ascii_case_run<false, true>(sc, ascii_case_run<true, false>(sc, w));
      if (ascii_stop(sc, j)) return j + contraction_length(sc, j, true);
    } else if (b >= '0' && b <= '9') {
      e = ascii_digits(sc, i);
    } else if (b == ' ' && i + 1 < sc.n && ascii_symbol(sc.s[i + 1])) {
      e = ascii_symbols(sc, i + 1, true);
    } else if (ascii_symbol(b)) {
      e = ascii_symbols(sc, i, true);
    }
    if (e) return e;
  }
  return o200k_piece_general(sc, i);
}

}  // namespace

std::size_t next_piece_end(SplitPattern pattern, std::string_view text, std::size_t begin) {
  const Scan sc{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  switch (pattern) {
    case SplitPattern::Gpt2: return gpt2_piece(sc, begin);
    case SplitPattern::Cl100k: return cl100k_piece(sc, begin);
    case SplitPattern::O200k: return o200k_piece(sc, begin);
  }
  return text.size();
}

}  // namespace tollway::tokens
