#include "limits/policy.h"

#include <algorithm>

#include "core/glob.h"
#include "limits/calendar.h"

namespace tollway::limits {

void append_key_value(std::string& key, std::string_view value) {
  key += '|';
  for (char ch : value) {
    if (ch == '|')
      key += "%7C";
    else if (ch == '%')
      key += "%25";
    else
      key += ch;
  }
}

void set_budget_period(Counter& counter, config::BudgetPeriod period, int64_t now_ms) {
  const CalendarPeriod p = calendar_period(period, now_ms);
  append_key_value(counter.key, p.label);
  counter.algorithm = CounterAlgorithm::Budget;
  counter.window_ms = std::max<int64_t>(1, p.end_ms - now_ms);
}

namespace {

bool matches(const std::string& pattern, std::string_view value) {
  return pattern.empty() || glob_match(pattern, value);
}

const char* dimension_name(config::Dimension d) {
  switch (d) {
    case config::Dimension::Tenant:
      return "tenant";
    case config::Dimension::AgentGroup:
      return "agent_group";
    case config::Dimension::Agent:
      return "agent";
    case config::Dimension::Key:
      return "key";
    case config::Dimension::Model:
      return "model";
    case config::Dimension::Session:
      return "session";
  }
  return "?";
}

}  // namespace

std::string_view RequestDimensions::value(config::Dimension d) const {
  switch (d) {
    case config::Dimension::Tenant:
      return tenant;
    case config::Dimension::AgentGroup:
      return agent_group;
    case config::Dimension::Agent:
      return agent;
    case config::Dimension::Key:
      return key;
    case config::Dimension::Model:
      return model;
    case config::Dimension::Session:
      return session;
  }
  return {};
}

int64_t UnitAmounts::of(config::LimitUnit unit) const {
  switch (unit) {
    case config::LimitUnit::Requests:
      return requests;
    case config::LimitUnit::InputTokens:
      return input_tokens;
    case config::LimitUnit::OutputTokens:
      return output_tokens;
    case config::LimitUnit::TotalTokens:
      return input_tokens + output_tokens;
    case config::LimitUnit::CostUsd:
      return cost_micro_usd;
  }
  return 0;
}

const char* LimitRules::unit_name(config::LimitUnit unit) {
  switch (unit) {
    case config::LimitUnit::Requests:
      return "requests";
    case config::LimitUnit::InputTokens:
      return "input_tokens";
    case config::LimitUnit::OutputTokens:
      return "output_tokens";
    case config::LimitUnit::TotalTokens:
      return "total_tokens";
    case config::LimitUnit::CostUsd:
      return "cost_usd";
  }
  return "?";
}

OnStoreError on_store_error(config::StoreErrorPolicy policy) {
  switch (policy) {
    case config::StoreErrorPolicy::Deny:
      return OnStoreError::Deny;
    case config::StoreErrorPolicy::Allow:
      return OnStoreError::Allow;
    case config::StoreErrorPolicy::Local:
      return OnStoreError::Local;
  }
  return OnStoreError::Deny;
}

LeaseModes lease_modes(const config::LeaseModes& modes) {
  LeaseModes out;
  switch (modes.on_lease_exhausted) {
    case config::LeaseExhausted::Deny: out.on_lease_exhausted = OnLeaseExhausted::Deny; break;
    case config::LeaseExhausted::Wait: out.on_lease_exhausted = OnLeaseExhausted::Wait; break;
    case config::LeaseExhausted::Allow: out.on_lease_exhausted = OnLeaseExhausted::Allow; break;
  }
  switch (modes.on_control_unreachable) {
    case config::ControlUnreachable::LastLease: out.on_control_unreachable = OnControlUnreachable::LastLease; break;
    case config::ControlUnreachable::Safe: out.on_control_unreachable = OnControlUnreachable::Safe; break;
    case config::ControlUnreachable::Deny: out.on_control_unreachable = OnControlUnreachable::Deny; break;
  }
  out.safe_allowance = modes.safe_allowance;
  return out;
}

LimitRules::LimitRules(const config::LimitsPolicy& policy) {
  auto add = [&](const auto& rule, bool budget, const char* kind) {
    Compiled c;
    c.match = rule.match;
    c.per = rule.per;
    c.needs_session = !rule.match.session.empty() || std::find(rule.per.begin(), rule.per.end(),
                                                               config::Dimension::Session) != rule.per.end();
    c.budget = budget;
    c.counter.key = std::string(kind) + "|" + rule.name;
    for (auto d : rule.per) c.counter.key += std::string("|") + dimension_name(d);
    c.counter.algorithm = budget ? CounterAlgorithm::Budget : CounterAlgorithm::Gcra;
    c.counter.limit = rule.limit;
    c.counter.shadow = rule.shadow;
    c.counter.on_store_error = on_store_error(rule.on_store_error);
    RuleInfo info{rule.name, budget, rule.unit, rule.limit, {}};
    if constexpr (requires { rule.period; }) {
      c.period = rule.period;
      info.alerts = rule.alerts;
      c.counter.lease = lease_modes(rule.lease);
    } else {
      c.counter.window_ms = rule.window.count();
    }
    compiled_.push_back(std::move(c));
    info_.push_back(std::move(info));
  };
  for (const auto& r : policy.rules) add(r, false, "rate");
  for (const auto& b : policy.budgets) add(b, true, "budget");
}

void LimitRules::plan(const RequestDimensions& request, int64_t now_ms, CounterPlan& out) const {
  for (std::size_t i = 0; i < compiled_.size(); ++i) {
    const Compiled& c = compiled_[i];
    if (c.needs_session && request.session.empty()) continue;
    const auto& m = c.match;
    if (!matches(m.tenant, request.tenant) || !matches(m.agent_group, request.agent_group) ||
        !matches(m.agent, request.agent) || !matches(m.key, request.key) ||
        !matches(m.model, request.model) || !matches(m.session, request.session))
      continue;
    Counter& counter = out.counters.emplace_back(c.counter);
    for (auto d : c.per) append_key_value(counter.key, request.value(d));
    if (c.budget) set_budget_period(counter, c.period, now_ms);
    out.rules.push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace tollway::limits
