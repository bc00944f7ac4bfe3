#include "limits/policy.h"

#include <gtest/gtest.h>

namespace tollway::limits {
namespace {

config::RateLimitRule rule(std::string name, config::LimitUnit unit, int64_t limit) {
  config::RateLimitRule r;
  r.name = std::move(name);
  r.unit = unit;
  r.limit = limit;
  r.window = std::chrono::hours(1);
  return r;
}

TEST(UnitAmounts, EveryUnit) {
  UnitAmounts a{1, 120, 30, 4500};
  EXPECT_EQ(a.of(config::LimitUnit::Requests), 1);
  EXPECT_EQ(a.of(config::LimitUnit::InputTokens), 120);
  EXPECT_EQ(a.of(config::LimitUnit::OutputTokens), 30);
  EXPECT_EQ(a.of(config::LimitUnit::TotalTokens), 150);
  EXPECT_EQ(a.of(config::LimitUnit::CostUsd), 4500);
}

TEST(LimitRules, GroupLimitAndModelGlobLimitBothApply) {
  // The example: support may use 2M tokens/h across all models and at most 500k/h on gpt-*.
  config::LimitsPolicy p;
  auto all = rule("support-all", config::LimitUnit::TotalTokens, 2'000'000);
  all.match.agent_group = "customer-support";
  all.per = {config::Dimension::AgentGroup};
  auto gpt = rule("support-gpt", config::LimitUnit::TotalTokens, 500'000);
  gpt.match.agent_group = "customer-support";
  gpt.match.model = "gpt-*";
  p.rules = {all, gpt};
  LimitRules rules(p);
  CounterPlan plan;
  rules.plan({.tenant = "acme", .agent_group = "customer-support", .model = "gpt-4o"}, 0, plan);
  ASSERT_EQ(plan.counters.size(), 2u);
  EXPECT_EQ(plan.counters[0].key, "rate|support-all|agent_group|customer-support");
  EXPECT_EQ(plan.counters[0].limit, 2'000'000);
  EXPECT_EQ(plan.counters[0].window_ms, 3'600'000);
  EXPECT_EQ(plan.counters[1].key, "rate|support-gpt");
  EXPECT_EQ(plan.rules[1], 1u);
  plan.clear();
  rules.plan({.tenant = "acme", .agent_group = "customer-support", .model = "claude-3-5-haiku"}, 0, plan);
  ASSERT_EQ(plan.counters.size(), 1u);
  plan.clear();
  rules.plan({.tenant = "acme", .agent_group = "research", .model = "gpt-4o"}, 0, plan);
  EXPECT_TRUE(plan.counters.empty());
}

TEST(LimitRules, PerDimensionsSplitCountersAndEscapeSeparators) {
  config::LimitsPolicy p;
  auto r = rule("per-agent", config::LimitUnit::Requests, 10);
  r.per = {config::Dimension::Tenant, config::Dimension::Agent};
  p.rules = {r};
  LimitRules rules(p);
  CounterPlan a, b;
  rules.plan({.tenant = "t", .agent = "x|y"}, 0, a);
  rules.plan({.tenant = "t|x", .agent = "y"}, 0, b);
  ASSERT_EQ(a.counters.size(), 1u);
  EXPECT_EQ(a.counters[0].key, "rate|per-agent|tenant|agent|t|x%7Cy");
  EXPECT_NE(a.counters[0].key, b.counters[0].key);
}

TEST(LimitRules, SessionRulesNeedASession) {
  config::LimitsPolicy p;
  config::BudgetRule b;
  b.name = "per-session";
  b.unit = config::LimitUnit::TotalTokens;
  b.limit = 1000;
  b.period = config::BudgetPeriod::Day;
  b.per = {config::Dimension::Session};
  b.shadow = true;
  b.on_store_error = config::StoreErrorPolicy::Local;
  p.budgets = {b};
  LimitRules rules(p);
  CounterPlan plan;
  rules.plan({.tenant = "t"}, 0, plan);
  EXPECT_TRUE(plan.counters.empty());
  const int64_t noon = 1798761600000 - 12 * 3'600'000;  // 2026-12-31T12:00Z
  rules.plan({.tenant = "t", .session = "s1"}, noon, plan);
  ASSERT_EQ(plan.counters.size(), 1u);
  EXPECT_EQ(plan.counters[0].key, "budget|per-session|session|s1|2026-12-31");
  EXPECT_EQ(plan.counters[0].algorithm, CounterAlgorithm::Budget);
  EXPECT_EQ(plan.counters[0].window_ms, 12 * 3'600'000);
  EXPECT_TRUE(plan.counters[0].shadow);
  EXPECT_EQ(plan.counters[0].on_store_error, OnStoreError::Local);
  EXPECT_TRUE(rules.rules()[0].budget);
  EXPECT_EQ(rules.rules()[0].alerts, (std::vector<int>{50, 80, 100}));
}

TEST(LimitRules, GlobsOnEveryDimension) {
  config::LimitsPolicy p;
  auto r = rule("keys", config::LimitUnit::CostUsd, 5'000'000);
  r.match.key = "vk_team_*";
  r.match.tenant = "acme";
  p.rules = {r};
  LimitRules rules(p);
  CounterPlan plan;
  rules.plan({.tenant = "acme", .key = "vk_team_42"}, 0, plan);
  EXPECT_EQ(plan.counters.size(), 1u);
  rules.plan({.tenant = "acme", .key = "vk_other"}, 0, plan);
  rules.plan({.tenant = "acme2", .key = "vk_team_42"}, 0, plan);
  EXPECT_EQ(plan.counters.size(), 1u);
}

}  // namespace
}  // namespace tollway::limits
