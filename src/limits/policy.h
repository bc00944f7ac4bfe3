// LimitRules: the limits policy compiled for the hot path — which rules and budgets apply to a request's
// dimensions (tenant, agent group, agent, key, model, session), the counter each one touches (its key names
// the rule, the values of its `per` dimensions and, for budgets, the calendar period) and the amount per
// unit. No pipeline types and no I/O: the LimitsFilter feeds it a request's dimensions and hands the counters
// to a Ledger. It never decides admission itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/limits_config.h"
#include "limits/ledger.h"

namespace tollway::limits {

struct RequestDimensions {
  std::string_view tenant{}, agent_group{}, agent{}, key{}, model{}, session{};
  std::string_view value(config::Dimension d) const;
};

// What one request reserves (estimate) or is charged (usage), in every unit a rule can count.
struct UnitAmounts {
  int64_t requests = 1;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cost_micro_usd = 0;
  int64_t of(config::LimitUnit unit) const;
};

// One compiled rule or budget, in policy order (rules first, then budgets).
struct RuleInfo {
  std::string name;
  bool budget = false;
  config::LimitUnit unit = config::LimitUnit::TotalTokens;
  int64_t limit = 0;
  std::vector<int> alerts;  // budgets only
};

// The counters a request touches and the rule each one belongs to (same order).
struct CounterPlan {
  std::vector<Counter> counters;
  std::vector<uint32_t> rules;  // index into LimitRules::rules()
  void clear() {
    counters.clear();
    rules.clear();
  }
};

class LimitRules {
 public:
  explicit LimitRules(const config::LimitsPolicy& policy);

  // Appends to `out` one counter per rule and budget that matches the request. A rule splitting by `session`
  // (or matching a session glob) does not apply to a request without a session id.
  void plan(const RequestDimensions& request, int64_t now_ms, CounterPlan& out) const;
  const std::vector<RuleInfo>& rules() const { return info_; }
  bool empty() const { return info_.empty(); }

  static const char* unit_name(config::LimitUnit unit);

 private:
  struct Compiled {
    config::LimitMatch match;
    std::vector<config::Dimension> per;
    bool needs_session = false;
    bool budget = false;
    config::BudgetPeriod period = config::BudgetPeriod::Day;
    Counter counter;  // key = the rule's key prefix; the rest filled per request
  };
  std::vector<Compiled> compiled_;
  std::vector<RuleInfo> info_;
};

// The Ledger's fail-policy enum for a configured one.
OnStoreError on_store_error(config::StoreErrorPolicy policy);
// The Ledger's lease modes for configured ones (ledger: leased).
LeaseModes lease_modes(const config::LeaseModes& modes);
// Appends one field to a counter key: '|' separates fields, so '|' and '%' in `value` are escaped.
void append_key_value(std::string& key, std::string_view value);
// Makes `counter` (its key so far: "budget|NAME|…") the budget counter of the UTC calendar period `now_ms` falls in:
// the period's label ends the key (a new period is a new counter) and the window lasts until the period ends.
void set_budget_period(Counter& counter, config::BudgetPeriod period, int64_t now_ms);

}  // namespace tollway::limits
