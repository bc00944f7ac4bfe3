#include "limits/admission/key_report.h"

#include <algorithm>
#include <limits>

#include "core/json.h"
#include "limits/admission/filter.h"
#include "limits/calendar.h"
#include "limits/policy.h"
#include "limits/spend_query.h"

namespace tollway::limits {
namespace {

bool depends_on_request(const config::BudgetRule& b) {
  return !b.match.model.empty() || !b.match.session.empty() ||
         std::any_of(b.per.begin(), b.per.end(), [](config::Dimension d) {
           return d == config::Dimension::Model || d == config::Dimension::Session;
         });
}

std::string budget_json(LimitsRuntime& runtime, std::string_view name, config::LimitUnit unit, const Counter& counter,
                        int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  json::ObjectWriter w;
  w.field("name", name).field("unit", LimitRules::unit_name(unit)).field("limit", counter.limit);
  if (runtime.strict()) {
    w.null_field("used").null_field("remaining");
  } else {
    const int64_t used = runtime.local_ledger().budget_used(counter, now_ms);
    w.field("used", used).field("remaining", std::max<int64_t>(0, counter.limit - used));
  }
  w.field("period_start", rfc3339_ms(start_ms));
  if (end_ms == std::numeric_limits<int64_t>::max()) w.null_field("period_end");
  else w.field("period_end", rfc3339_ms(end_ms));
  return std::move(w).finish();
}

}  // namespace

std::string key_usage_json(LimitsRuntime& runtime, const config::LimitsPolicy& policy, const KeyIdentity& key,
                           const auth::KeyLimits& limits, int64_t now_ms) {
  std::string out;
  if (SpendLog* log = runtime.spend_log()) {
    log->flush();
    out += "\"spend\":" + spend_totals_json(key_spend_since(log->path(), key.id, key.created_at_s * 1000)) + ",";
  }
  std::string budgets = "[";
  auto add = [&](std::string item) {
    if (budgets.size() > 1) budgets += ",";
    budgets += item;
  };
  if (limits.max_budget_micro_usd > 0) {
    const CalendarPeriod period = recurring_period(limits.budget_anchor_s * 1000, limits.budget_every_s * 1000,
                                                   limits.budget_every_months, now_ms);
    add(budget_json(runtime, "key_budget", config::LimitUnit::CostUsd, key_budget_counter(key.id, limits, now_ms),
                    period.start_ms, period.end_ms, now_ms));
  }
  const LimitRules rules(policy);
  CounterPlan plan;
  rules.plan({key.tenant, key.agent_group, key.agent, key.id, {}, {}}, now_ms, plan);
  for (std::size_t i = 0; i < plan.counters.size(); ++i) {
    const RuleInfo& info = rules.rules()[plan.rules[i]];
    if (!info.budget) continue;
    const config::BudgetRule& b = policy.budgets[plan.rules[i] - policy.rules.size()];
    if (depends_on_request(b)) continue;
    const CalendarPeriod period = calendar_period(b.period, now_ms);
    add(budget_json(runtime, info.name, info.unit, plan.counters[i], period.start_ms, period.end_ms, now_ms));
  }
  return out + "\"budgets\":" + budgets + "]";
}

}  // namespace tollway::limits
