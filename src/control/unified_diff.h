// UnifiedDiff: a unified-style diff of two versions of a text, line by line (`--- OLD`, `+++ NEW`, `@@ -l,n
// +l,n @@` hunks with three lines of context), for `tollway control diff`. Lines are matched by a longest
// common subsequence after the common head and tail are set aside; when what remains is too large for that
// (over 4M line pairs) the remaining lines are shown as removed and added, never guessed. Pure.
#pragma once

#include <string>
#include <string_view>

namespace tollway::control {

// "" when the texts are equal.
std::string unified_diff(std::string_view old_name, std::string_view old_text, std::string_view new_name,
                         std::string_view new_text);

}  // namespace tollway::control
