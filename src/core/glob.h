// Shell-style glob matching for model names and paths in policy: '*' any run, '?' one byte, '[a-z0-9]' and
// '[!x]' classes. Byte-wise, case-sensitive; never backtracks exponentially.
#pragma once

#include <string_view>

namespace tollway {

bool glob_match(std::string_view pattern, std::string_view text);
// True when the pattern matches at least one text that starts with `prefix` (which routes under a path prefix
// a path glob can reach).
bool glob_can_match_prefixed(std::string_view pattern, std::string_view prefix);
// Empty when the pattern is well-formed, otherwise what is wrong with it (e.g. an unclosed '[').
std::string_view glob_syntax_error(std::string_view pattern);

}  // namespace tollway
