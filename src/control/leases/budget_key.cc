#include "control/leases/budget_key.h"

#include <algorithm>
#include <array>

namespace tollway::control::leases {
namespace {

constexpr std::string_view kPrefix = "budget|";
// Dimension names limits/policy.cc and sidecar/limit_filter.cc write into keys.
constexpr std::array<std::string_view, 8> kDimensions = {"tenant", "agent_group", "agent", "key",
                                                         "model",  "session",     "from",  "to"};

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> fields;
  while (true) {
    const auto bar = text.find('|');
    fields.push_back(text.substr(0, bar));
    if (bar == std::string_view::npos) return fields;
    text.remove_prefix(bar + 1);
  }
}

// limits::append_key_value's escaping undone.
std::string unescape(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value.substr(i, 3) == "%7C") out += '|', i += 2;
    else if (value.substr(i, 3) == "%25") out += '%', i += 2;
    else out += value[i];
  }
  return out;
}

bool is_dimension(std::string_view field) {
  return std::find(kDimensions.begin(), kDimensions.end(), field) != kDimensions.end();
}

}  // namespace

std::string_view budget_name(std::string_view key) {
  if (!key.starts_with(kPrefix)) return {};
  const std::string_view rest = key.substr(kPrefix.size());
  return rest.substr(0, rest.find('|'));
}

std::optional<BudgetKeyParts> parse_budget_key(std::string_view key) {
  if (!key.starts_with(kPrefix)) return std::nullopt;
  const auto fields = split(key.substr(kPrefix.size()));
  if (fields.size() < 2 || fields.front().empty()) return std::nullopt;
  BudgetKeyParts parts{std::string(fields.front()), {}, unescape(fields.back())};
  // Between the name and the period: n dimension names, then their n values (and a sidecar's name value).
  const std::vector<std::string_view> middle(fields.begin() + 1, fields.end() - 1);
  std::size_t names = 0;
  while (names < middle.size() / 2 && is_dimension(middle[names])) ++names;
  const std::size_t extra = middle.size() - 2 * names;
  if (extra > 1) return std::nullopt;
  for (std::size_t i = 0; i < names; ++i)
    parts.dimensions.emplace_back(std::string(middle[i]), unescape(middle[names + i]));
  if (extra == 1) parts.dimensions.emplace_back("name", unescape(middle.back()));
  return parts;
}

}  // namespace tollway::control::leases
