// BudgetKey: a leased budget counter's key read back into its parts for GET /v1/budgets and the dashboard — the
// budget's name, its dimensions with their values (tenant, agent_group, agent, key, model, session; a sidecar's from,
// to and name) and its period label. The keys are written by limits/policy.cc ("budget|NAME|<dimension names…>|
// <values…>|<period>", values escaped %7C and %25) and sidecar/limit_filter.cc ("budget|NAME|[from|][to|]<caller>|
// <destination>|[<name>]|<period>"). It only reads keys; a key of another shape has no parts (nullopt).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollway::control::leases {

struct BudgetKeyParts {
  std::string budget;
  std::vector<std::pair<std::string, std::string>> dimensions;  // name and value, in the key's order
  std::string period;  // the calendar period's label: "2026-05" (a month) or "2026-05-17" (a day)
};

std::optional<BudgetKeyParts> parse_budget_key(std::string_view key);
// The budget a counter key belongs to: NAME of "budget|NAME|…"; "" when `key` is not a budget counter's.
std::string_view budget_name(std::string_view key);

}  // namespace tollway::control::leases
