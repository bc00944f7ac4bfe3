#include "core/glob.h"

#include <cstddef>

namespace tollway {
namespace {

// Matches a class starting at pattern[p] == '['; sets `end` past the closing ']'.
bool class_matches(std::string_view pattern, std::size_t p, char c, std::size_t& end) {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 3;
    } else {
      ++i;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  end = i + 1;  // past ']'
  return matched != negate;
}

}  // namespace

std::string_view glob_syntax_error(std::string_view pattern) {
  if (pattern.empty()) return "empty pattern";
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '[') continue;
    std::size_t j = i + 1;
    if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
    if (j < pattern.size() && pattern[j] == ']') ++j;
    while (j < pattern.size() && pattern[j] != ']') ++j;
    if (j >= pattern.size()) return "unclosed '[' in pattern";
    i = j;
  }
  return {};
}

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t end;
        if (class_matches(pattern, p, text[t], end)) {
          p = end;
          ++t;
          continue;
        }
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool glob_can_match_prefixed(std::string_view pattern, std::string_view prefix) {
  // Some text prefix+rest matches exactly when a leading part of the pattern, cut between two of its
  // elements, matches `prefix` (a '*' at the cut may take the end of `prefix`); every well-formed rest
  // matches something. A cut inside a character class leaves an unclosed '[' and is skipped.
  for (std::size_t cut = 1; cut <= pattern.size(); ++cut) {
    const std::string_view head = pattern.substr(0, cut);
    if (glob_syntax_error(head).empty() && glob_match(head, prefix)) return true;
  }
  return false;
}

}  // namespace tollway
