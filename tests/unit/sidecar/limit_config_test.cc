#include "sidecar/config.h"

#include <gtest/gtest.h>

namespace tollway::sidecar {
namespace {

// A document with one peer (agent-c) and the gateway; `tail` is appended (the `limits:` section under test).
std::string document(const std::string& tail, bool gateway = true) {
  return std::string("version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/ns/prod/sa/agent-b\n"
                     "  agent: 127.0.0.1:8000\n  tls: {cert_file: b.pem, key_file: b.key, bundle_file: ca.pem}\n") +
         (gateway ? "  gateway: {address: 127.0.0.1:8443, spiffe_id: spiffe://example.org/ns/prod/sa/gateway}\n" : "") +
         "peers:\n  agent-c: {address: 127.0.0.1:15016, spiffe_id: spiffe://example.org/ns/prod/sa/agent-c}\n" + tail;
}

SidecarLoadResult parse(const std::string& yaml) {
  return parse_sidecar_config(yaml, "sidecar.yaml",
                              [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

std::string errors_of(const SidecarLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(SidecarLimitConfig, ReadsRulesCloseToTheGatewaysShape) {
  const auto r = parse(document(R"(limits:
  ledger: local
  default_max_tokens: 512
  rules:
    - name: per-caller
      match: {from: ["spiffe://example.org/ns/prod/sa/*"], to: local}
      per: [from]
      limit: 100
      window: 1m
    - {name: llm, match: {to: gateway}, per: [from, to], unit: total_tokens, limit: 50000, window: 1h, mode: shadow}
)"));
  ASSERT_TRUE(r.config) << errors_of(r);
  const SidecarConfig& c = *r.config;
  ASSERT_TRUE(c.gateway);
  EXPECT_EQ(c.gateway->address.to_string(), "127.0.0.1:8443");
  EXPECT_EQ(c.gateway->spiffe_id, "spiffe://example.org/ns/prod/sa/gateway");
  EXPECT_EQ(c.local_limits.default_max_tokens, 512u);
  ASSERT_EQ(c.local_limits.rules.size(), 2u);
  const LocalLimitRule& caller = c.local_limits.rules[0];
  EXPECT_EQ(caller.name, "per-caller");
  ASSERT_EQ(caller.from.size(), 1u);
  EXPECT_EQ(caller.to, std::vector<std::string>{"local"});
  EXPECT_TRUE(caller.per_from);
  EXPECT_FALSE(caller.per_to);
  EXPECT_EQ(caller.unit, config::LimitUnit::Requests);  // the default
  EXPECT_EQ(caller.limit, 100);
  EXPECT_EQ(caller.window.count(), 60'000);
  EXPECT_FALSE(caller.shadow);
  const LocalLimitRule& llm = c.local_limits.rules[1];
  EXPECT_TRUE(llm.per_from && llm.per_to && llm.shadow && llm.counts_tokens());
  EXPECT_EQ(llm.window.count(), 3'600'000);
}

TEST(SidecarLimitConfig, ReadsBudgetsAndTheirLeaseModes) {
  const auto r = parse(document(R"(limits:
  ledger: leased
  leased: {on_lease_exhausted: wait, safe_allowance: 500}
  rules:
    - {name: burst, limit: 10, window: 1s}
  budgets:
    - {name: fleet-llm, match: {to: gateway}, unit: total_tokens, limit: 40000, period: day}
    - {name: inbound, match: {to: local}, per: [from], limit: 100, period: month, on_control_unreachable: deny}
)"));
  ASSERT_TRUE(r.config) << errors_of(r);
  const LocalLimitsConfig& l = r.config->local_limits;
  EXPECT_TRUE(l.leased);
  EXPECT_TRUE(l.has_budgets());
  ASSERT_EQ(l.rules.size(), 3u);
  EXPECT_FALSE(l.rules[0].budget);
  const LocalLimitRule& llm = l.rules[1];
  EXPECT_TRUE(llm.budget);
  EXPECT_EQ(llm.limit, 40000);
  EXPECT_EQ(llm.period, config::BudgetPeriod::Day);
  EXPECT_EQ(llm.lease.on_lease_exhausted, config::LeaseExhausted::Wait);  // the section's default
  EXPECT_EQ(llm.lease.on_control_unreachable, config::ControlUnreachable::LastLease);
  EXPECT_EQ(llm.lease.safe_allowance, 500);
  const LocalLimitRule& inbound = l.rules[2];
  EXPECT_TRUE(inbound.budget && inbound.per_from);
  EXPECT_EQ(inbound.period, config::BudgetPeriod::Month);
  EXPECT_EQ(inbound.lease.on_control_unreachable, config::ControlUnreachable::Deny);  // its own
  EXPECT_EQ(inbound.lease.on_lease_exhausted, config::LeaseExhausted::Wait);
}

TEST(SidecarLimitConfig, NoSectionNoRulesAndNoGateway) {
  const auto r = parse(document("", false));
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_FALSE(r.config->gateway);
  EXPECT_TRUE(r.config->local_limits.rules.empty());
}

TEST(SidecarLimitConfig, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::string rule = "limits:\n  rules:\n    - ";
  for (const Case& c : std::vector<Case>{
           {"limits: {ledger: strict}\n",
            "sidecar.yaml:9: limits.ledger: \"strict\": the sidecar decides in process"},
           {"limits: {ledger: redis}\n", "use local, or leased for budgets shared by the fleet"},
           {"limits: {ledger: leased}\n", "limits.ledger: leased shares budgets: add limits.budgets"},
           {"limits: {budgets: {}}\n", "limits.budgets: must be a list"},
           {"limits: {leased: {on_lease_exhausted: wait}}\n", "limits.leased: applies to ledger: leased only"},
           {"limits:\n  budgets:\n    - {name: b, limit: 1}\n", "limits.budgets[0].period: required: day or month"},
           {"limits:\n  budgets:\n    - {name: b, limit: 1, period: week}\n", "\"week\" is not a period"},
           {"limits:\n  budgets:\n    - {name: b, limit: 1, period: day, window: 1m}\n", "limits.budgets[0]"},
           {"limits:\n  budgets:\n    - {name: b, limit: 1, period: day, on_lease_exhausted: wait}\n",
            "limits.budgets[0].on_lease_exhausted: applies to ledger: leased only"},
           {"limits:\n  ledger: leased\n  budgets:\n    - {name: b, limit: 1, period: day, on_control_unreachable: x}\n",
            "\"x\" is not last_lease, safe or deny"},
           {"limits:\n  rules:\n    - {name: x, limit: 1, window: 1m}\n  budgets:\n    - {name: x, limit: 1, period: day}\n",
            "already the name of another rule or budget"},
           {rule + "{name: x, limit: 1}\n", "limits.rules[0].window: required"},
           {rule + "{name: x, window: 1m}\n", "limits.rules[0].limit: required"},
           {rule + "{limit: 1, window: 1m}\n", "limits.rules[0].name: required"},
           {rule + "{name: 'a b', limit: 1, window: 1m}\n", "is not a name"},
           {rule + "{name: x, limit: 0, window: 1m}\n", "limits.rules[0].limit: \"0\" is not a whole number"},
           {rule + "{name: x, limit: 1, window: 5ms}\n", "limits.rules[0].window: \"5ms\" is not a window"},
           {rule + "{name: x, limit: 1, window: 1m, unit: cost_usd}\n", "is not a unit the sidecar counts"},
           {rule + "{name: x, limit: 1, window: 1m, per: [model]}\n",
            "limits.rules[0].per: \"model\" is not from, to, tool or skill"},
           {rule + "{name: x, limit: 1, window: 1m, per: [from, from]}\n", "listed twice"},
           {rule + "{name: x, limit: 1, window: 1m, mode: audit}\n", "is not a mode"},
           {rule + "{name: x, limit: 1, window: 1m, match: {from: \"spiffe://example.org/ns/*x\"}}\n",
            "limits.rules[0].match.from"},
           {rule + "{name: x, limit: 1, window: 1m, match: {to: agent-q}}\n",
            "\"agent-q\" is not a peer, gateway (LLM calls) or local"},
           {rule + "{name: x, limit: 1, window: 1m, match: {model: gpt}}\n", "limits.rules[0].match"},
           {rule + "{name: x, limit: 1, window: 1m, unit: total_tokens, match: {to: agent-c}}\n",
            "a token unit counts LLM calls only: \"agent-c\" is not gateway"},
           {rule + "{name: x, limit: 1, window: 1m}\n    - {name: x, limit: 2, window: 1m}\n", "already the name"},
       }) {
    const auto r = parse(document(c.yaml));
    EXPECT_FALSE(r.config) << c.yaml;
    EXPECT_NE(errors_of(r).find(c.expected), std::string::npos) << c.yaml << "\n" << errors_of(r);
  }
}

TEST(SidecarLimitConfig, GatewayDestinationsNeedTheGateway) {
  const std::string rules = "limits:\n  rules:\n    - ";
  const auto to_gateway = parse(document(rules + "{name: x, limit: 1, window: 1m, match: {to: gateway}}\n", false));
  EXPECT_NE(errors_of(to_gateway).find("\"gateway\" needs sidecar.gateway"), std::string::npos)
      << errors_of(to_gateway);
  const auto tokens = parse(document(rules + "{name: x, limit: 1, window: 1m, unit: input_tokens}\n", false));
  EXPECT_NE(errors_of(tokens).find("token units count LLM calls, which need sidecar.gateway"), std::string::npos)
      << errors_of(tokens);
}

TEST(SidecarLimitConfig, APeerNamedLikeADestinationIsAmbiguous) {
  const std::string yaml = std::string("version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/a\n"
                                       "  agent: 127.0.0.1:1\n  tls: {cert_file: a, key_file: b, bundle_file: c}\n") +
                           "peers:\n  local: {address: 127.0.0.1:2, spiffe_id: spiffe://example.org/l}\n"
                           "limits:\n  rules:\n    - {name: x, limit: 1, window: 1m, match: {to: local}}\n";
  EXPECT_NE(errors_of(parse(yaml)).find("names both a peer and the local agent"), std::string::npos);
}

TEST(SidecarLimitConfig, GatewayErrors) {
  const std::string head = "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/a\n  agent: 127.0.0.1:1\n"
                           "  tls: {cert_file: a, key_file: b, bundle_file: c}\n";
  for (const auto& [gateway, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{address: 127.0.0.1:8443}", "sidecar.gateway.spiffe_id: required"},
           {"{spiffe_id: spiffe://example.org/g}", "sidecar.gateway.address: required"},
           {"{address: 127.0.0.1:0, spiffe_id: spiffe://example.org/g}", "sidecar.gateway.address: needs a port"},
           {"{address: gw.example:1, spiffe_id: spiffe://example.org/g}", "is not HOST:PORT"},
           {"{address: 127.0.0.1:1, spiffe_id: https://g}",
            "sidecar.gateway.spiffe_id: \"https://g\" is not a SPIFFE ID"},
           {"{address: 127.0.0.1:1, spiffe_id: spiffe://example.org/g, api_key: x}", "sidecar.gateway"},
       }) {
    const auto r = parse(head + "  gateway: " + gateway + "\n");
    EXPECT_FALSE(r.config) << gateway;
    EXPECT_NE(errors_of(r).find(expected), std::string::npos) << gateway << "\n" << errors_of(r);
  }
}

}  // namespace
}  // namespace tollway::sidecar
