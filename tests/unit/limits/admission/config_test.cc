#include "limits/admission/config.h"

#include <gtest/gtest.h>

#include "../../config_text.h"

#include "config/loader.h"

namespace tollway::config {
namespace {

using test_text::all_errors;

LoadResult parse(const std::string& limits) {
  const std::string text =
      "version: 1\nproviders:\n  p:\n    api: openai\n    base_url: http://127.0.0.1:9000\n"
      "routes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: p\n"
      "limits:\n" +
      limits;
  return parse_gateway_config(text, "/etc/tollway/gw.yaml",
                              [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

TEST(LimitsConfig, DefaultsWithoutPolicy) {
  auto r = parse("  max_body: 1MiB\n");
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& p = r.config->limits_policy;
  EXPECT_FALSE(p.enabled());
  EXPECT_EQ(p.ledger, LedgerMode::Local);
  EXPECT_EQ(p.default_max_tokens, 4096u);
  EXPECT_EQ(p.spend_log.on_error, SpendLogErrorPolicy::Allow);
  EXPECT_EQ(r.config->limits.max_body, 1024u * 1024u);
}

TEST(LimitsConfig, FullPolicy) {
  auto r = parse(R"(  ledger: strict
  redis: {url: "redis://127.0.0.1:6379/0", timeout: 20ms, key_prefix: "tw:", local_fallback_max: 10s}
  spend_log: {path: spend.db, flush_interval: 50ms, fsync: false, on_error: deny}
  default_max_tokens: 1024
  rules:
    - name: support-all
      match: {agent_group: customer-support}
      per: [agent_group]
      unit: total_tokens
      limit: 2000000
      window: 1h
    - name: support-gpt
      match: {agent_group: customer-support, model: "gpt-*"}
      limit: 500000
      window: 1d
      mode: shadow
      on_store_error: local
  budgets:
    - name: tenant-month
      per: [tenant]
      unit: cost_usd
      limit: "250.50"
      period: month
      alerts: [25, 90]
    - name: session-day
      per: [session]
      unit: total_tokens
      limit: 100000
      period: day
  sessions:
    context_guard: reject
    context_windows: {"gpt-4o*": 128000, "claude-*": 200000}
  fanout: {secret: "0123456789abcdef0123456789abcdef", unit: total_tokens, default_budget: 50000, max_budget: 200000, ttl: 30m}
)");
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& p = r.config->limits_policy;
  EXPECT_TRUE(p.enabled());
  EXPECT_EQ(p.ledger, LedgerMode::Strict);
  EXPECT_EQ(p.redis.url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(p.redis.timeout.count(), 20);
  EXPECT_EQ(p.redis.key_prefix, "tw:");
  EXPECT_EQ(p.redis.local_fallback_max.count(), 10'000);
  EXPECT_EQ(p.spend_log.path, "/etc/tollway/spend.db");
  EXPECT_EQ(p.spend_log.flush_interval.count(), 50);
  EXPECT_FALSE(p.spend_log.fsync);
  EXPECT_EQ(p.spend_log.on_error, SpendLogErrorPolicy::Deny);
  EXPECT_EQ(p.default_max_tokens, 1024u);
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.rules[0].match.agent_group, "customer-support");
  EXPECT_EQ(p.rules[0].per, std::vector<Dimension>{Dimension::AgentGroup});
  EXPECT_EQ(p.rules[0].window.count(), 3'600'000);
  EXPECT_EQ(p.rules[0].limit, 2'000'000);
  EXPECT_FALSE(p.rules[0].shadow);
  EXPECT_EQ(p.rules[1].window.count(), 86'400'000);
  EXPECT_TRUE(p.rules[1].shadow);
  EXPECT_EQ(p.rules[1].on_store_error, StoreErrorPolicy::Local);
  ASSERT_EQ(p.budgets.size(), 2u);
  EXPECT_EQ(p.budgets[0].limit, 250'500'000);
  EXPECT_EQ(p.budgets[0].unit, LimitUnit::CostUsd);
  EXPECT_EQ(p.budgets[0].period, BudgetPeriod::Month);
  EXPECT_EQ(p.budgets[0].alerts, (std::vector<int>{25, 90}));
  EXPECT_EQ(p.budgets[1].alerts, (std::vector<int>{50, 80, 100}));
  EXPECT_EQ(p.budgets[1].period, BudgetPeriod::Day);
  EXPECT_EQ(p.sessions.context_guard, ContextGuard::Reject);
  ASSERT_EQ(p.sessions.context_windows.size(), 2u);
  EXPECT_EQ(p.sessions.context_windows[1].pattern, "claude-*");
  EXPECT_EQ(p.sessions.context_windows[1].tokens, 200'000u);
  EXPECT_TRUE(p.fanout.enabled);
  EXPECT_EQ(p.fanout.default_budget, 50'000);
  EXPECT_EQ(p.fanout.max_budget, 200'000);
  EXPECT_EQ(p.fanout.ttl.count(), 1'800'000);
}

TEST(LimitsConfig, LeasedModesDefaultFromTheSectionAndABudgetMaySetItsOwn) {
  auto r = parse(R"(  ledger: leased
  leased: {on_lease_exhausted: wait, safe_allowance: 500}
  budgets:
    - {name: shared, limit: 100000, period: day}
    - {name: strict-ish, limit: 5000, period: day, on_control_unreachable: deny, on_lease_exhausted: deny}
)");
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& p = r.config->limits_policy;
  EXPECT_EQ(p.ledger, LedgerMode::Leased);
  EXPECT_EQ(p.budgets[0].lease.on_lease_exhausted, LeaseExhausted::Wait);
  EXPECT_EQ(p.budgets[0].lease.on_control_unreachable, ControlUnreachable::LastLease);  // the default
  EXPECT_EQ(p.budgets[0].lease.safe_allowance, 500);
  EXPECT_EQ(p.budgets[1].lease.on_lease_exhausted, LeaseExhausted::Deny);
  EXPECT_EQ(p.budgets[1].lease.on_control_unreachable, ControlUnreachable::Deny);
}

struct BadCase {
  const char* yaml;
  const char* expected;  // substring of the one error
};

TEST(LimitsConfig, PreciseErrors) {
  const BadCase cases[] = {
      {"  ledger: fast\n", "limits.ledger: \"fast\" is not a ledger (allowed: local, strict, leased)"},
      {"  leased: {on_lease_exhausted: wait}\n", "limits.leased: applies to ledger: leased only"},
      {"  budgets:\n    - {name: b, limit: 5, on_control_unreachable: deny}\n",
       "limits.budgets[0].on_control_unreachable: applies to ledger: leased only"},
      {"  ledger: leased\n  leased: {on_lease_exhausted: queue}\n",
       "limits.leased.on_lease_exhausted: \"queue\" is not deny, wait or allow"},
      {"  ledger: leased\n  budgets:\n    - {name: b, limit: 5, on_control_unreachable: open}\n",
       "limits.budgets[0].on_control_unreachable: \"open\" is not last_lease, safe or deny"},
      {"  ledger: leased\n  leased: {safe_allowance: -1}\n", "limits.leased.safe_allowance"},
      {"  ledger: leased\n  leased: {sync_interval: 1s}\n", "limits.leased.sync_interval: unknown key"},
      {"  ledger: strict\n", "limits.redis.url: required when limits.ledger is strict"},
      {"  redis: {url: \"http://x\"}\n", "limits.redis.url: must be redis://"},
      {"  rules:\n    - {name: a, limit: 10}\n", "limits.rules[0].window: required"},
      {"  rules:\n    - {name: a, limit: 10, window: 500ms}\n", "is not a window (1s to 31d"},
      {"  rules:\n    - {name: a, limit: 0, window: 1m}\n",
       "limits.rules[0].limit: \"0\" is not a valid limit"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, unit: tokens}\n",
       "\"tokens\" is not a unit (allowed: requests, input_tokens, output_tokens, total_tokens, cost_usd)"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, per: [team]}\n",
       "limits.rules[0].per[0]: \"team\" is not a dimension"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, mode: dry}\n", "(allowed: enforce, shadow)"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, on_store_error: retry}\n",
       "(allowed: deny, allow, local)"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, match: {model: \"gpt-[\"}}\n",
       "limits.rules[0].match.model:"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m, match: {team: x}}\n",
       "limits.rules[0].match.team: unknown key"},
      {"  rules:\n    - {name: a, limit: 10, window: 1m}\n  budgets:\n    - {name: a, limit: 5}\n",
       "limits.budgets[0].name: \"a\" is already the name"},
      {"  rules:\n    - {name: \"a|b\", limit: 10, window: 1m}\n", "is not a name"},
      {"  budgets:\n    - {name: b, limit: 5, period: week}\n", "(allowed: day, month; UTC calendar)"},
      {"  budgets:\n    - {name: b, limit: 5, alerts: [80, 50]}\n", "limits.budgets[0].alerts[1]"},
      {"  budgets:\n    - {name: b, unit: cost_usd, limit: \"1.0000001\"}\n", "USD > 0, at most 6 decimals"},
      {"  sessions: {context_guard: reject}\n", "limits.sessions.context_windows: required"},
      {"  sessions: {context_guard: block, context_windows: {a: 1}}\n", "(reject, warn, off)"},
      {"  fanout: {secret: short, max_budget: 10}\n", "limits.fanout.secret: must be at least 32 bytes"},
      {"  fanout: {secret: \"0123456789abcdef0123456789abcdef\"}\n", "limits.fanout.max_budget: required"},
      {"  default_max_tokens: -3\n", "limits.default_max_tokens"},
      {"  spend_log: {fsync: true}\n", "limits.spend_log.path: required"},
      {"  spend_log: {path: s.db, on_error: local}\n", "limits.spend_log.on_error: \"local\" is not a spend-log fail mode (allowed: allow, deny)"},
      {"  window: 1m\n", "limits.window: unknown key"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.yaml);
    EXPECT_FALSE(r.config) << c.yaml;
    const std::string errors = all_errors(r);
    EXPECT_NE(errors.find(c.expected), std::string::npos) << c.yaml << "\n got: " << errors;
    EXPECT_NE(errors.find("/etc/tollway/gw.yaml:"), std::string::npos) << errors;
  }
}

TEST(LimitsConfig, ErrorsCarryTheLine) {
  auto r = parse("  rules:\n    - name: a\n      limit: 10\n      window: 2w\n");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 14);  // the `window:` line
  EXPECT_EQ(r.errors[0].key_path, "limits.rules[0].window");
}

TEST(ParseUsd, Amounts) {
  EXPECT_EQ(parse_usd("25"), 25'000'000);
  EXPECT_EQ(parse_usd("0.000001"), 1);
  EXPECT_EQ(parse_usd("1.5"), 1'500'000);
  EXPECT_FALSE(parse_usd("1."));
  EXPECT_FALSE(parse_usd(".5"));
  EXPECT_FALSE(parse_usd("1e3"));
  EXPECT_FALSE(parse_usd("-1"));
}

}  // namespace
}  // namespace tollway::config
