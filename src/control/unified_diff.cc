#include "control/unified_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "control/text_blocks.h"

namespace tollway::control {
namespace {

constexpr std::size_t kContext = 3;
constexpr std::size_t kMaxPairs = 4u << 20;

struct Op {
  char kind;      // ' ' kept, '-' removed, '+' added
  std::size_t a;  // index in the old lines (for '+': the old line it comes before)
  std::size_t b;  // index in the new lines (for '-': the new line it comes before)
};

// The edit script from old[lo_a, hi_a) to new[lo_b, hi_b) by longest common subsequence.
void diff_middle(const std::vector<std::string_view>& x, const std::vector<std::string_view>& y, std::size_t lo_a,
                 std::size_t hi_a, std::size_t lo_b, std::size_t hi_b, std::vector<Op>& ops) {
  const std::size_t n = hi_a - lo_a, m = hi_b - lo_b;
  if (n == 0 || m == 0 || n * m > kMaxPairs) {
    for (std::size_t i = lo_a; i < hi_a; ++i) ops.push_back({'-', i, lo_b});
    for (std::size_t j = lo_b; j < hi_b; ++j) ops.push_back({'+', hi_a, j});
    return;
  }
  // common[i][j]: the LCS length of x[lo_a+i..hi_a) and y[lo_b+j..hi_b).
  std::vector<uint32_t> common((n + 1) * (m + 1), 0);
  const auto at = [&](std::size_t i, std::size_t j) -> uint32_t& { return common[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = m; j-- > 0;)
      at(i, j) = x[lo_a + i] == y[lo_b + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[lo_a + i] == y[lo_b + j]) {
      ops.push_back({' ', lo_a + i, lo_b + j});
      ++i, ++j;
    } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
      ops.push_back({'-', lo_a + i, lo_b + j});
      ++i;
    } else {
      ops.push_back({'+', lo_a + i, lo_b + j});
      ++j;
    }
  }
}

std::string range_text(std::size_t start, std::size_t count) {
  // Unified format: a hunk with no lines on one side names the line before it.
  return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

}  // namespace

std::string unified_diff(std::string_view old_name, std::string_view old_text, std::string_view new_name,
                         std::string_view new_text) {
  if (old_text == new_text) return "";
  const auto x = split_lines(old_text);
  const auto y = split_lines(new_text);
  std::size_t head = 0;
  while (head < x.size() && head < y.size() && x[head] == y[head]) ++head;
  std::size_t tail = 0;
  while (tail < x.size() - head && tail < y.size() - head && x[x.size() - 1 - tail] == y[y.size() - 1 - tail]) ++tail;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < head; ++i) ops.push_back({' ', i, i});
  diff_middle(x, y, head, x.size() - tail, head, y.size() - tail, ops);
  for (std::size_t k = tail; k-- > 0;) ops.push_back({' ', x.size() - 1 - k, y.size() - 1 - k});

  std::string out = "--- " + std::string(old_name) + "\n+++ " + std::string(new_name) + "\n";
  std::size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    const std::size_t begin = k >= kContext ? k - kContext : 0;
    std::size_t end = k;  // one past the last change of the hunk
    for (std::size_t probe = k; probe < ops.size() && probe < end + 2 * kContext + 1; ++probe)
      if (ops[probe].kind != ' ') end = probe + 1;
    const std::size_t stop = std::min(ops.size(), end + kContext);
    std::size_t old_count = 0, new_count = 0;
    for (std::size_t p = begin; p < stop; ++p) {
      old_count += ops[p].kind != '+';
      new_count += ops[p].kind != '-';
    }
    out += "@@ -" + range_text(ops[begin].a, old_count) + " +" + range_text(ops[begin].b, new_count) + " @@\n";
    for (std::size_t p = begin; p < stop; ++p) {
      out += ops[p].kind;
      out += ops[p].kind == '+' ? y[ops[p].b] : x[ops[p].a];
      out += "\n";
    }
    k = stop;
  }
  return out;
}

}  // namespace tollway::control
