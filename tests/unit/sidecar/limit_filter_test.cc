#include "sidecar/limit_filter.h"

#include <gtest/gtest.h>

#include "../filter_phase.h"
#include "http/parser.h"
#include "providers/request_fields.h"
#include "sidecar/filters.h"

namespace tollway::sidecar {
namespace {

using pipeline::Verdict;
using testing::run_phase;

const std::string kSelf = "spiffe://example.org/ns/prod/sa/agent-b";
const std::string kRunaway = "spiffe://example.org/ns/prod/sa/runaway";
const std::string kNeighbour = "spiffe://example.org/ns/prod/sa/agent-a";
constexpr int64_t kNow = 1'796'083'200'000;  // 2026-12-01T00:00:00Z

LocalLimitRule rule(std::string name, config::LimitUnit unit, int64_t limit, std::vector<std::string> from = {},
                    std::vector<std::string> to = {}, bool per_from = false) {
  LocalLimitRule r;
  r.name = std::move(name);
  r.unit = unit;
  r.limit = limit;
  r.window = std::chrono::hours(1);
  for (const auto& f : from) r.from.push_back(*tls::SpiffeIdPattern::parse(f));
  r.to = std::move(to);
  r.per_from = per_from;
  return r;
}

std::shared_ptr<const SidecarConfig> config_with(std::vector<LocalLimitRule> rules) {
  auto c = std::make_shared<SidecarConfig>();
  c->spiffe_id = kSelf;
  c->trust_domain = "example.org";
  c->peers.push_back({"agent-c", {"127.0.0.1", 15016}, "spiffe://example.org/ns/prod/sa/agent-c", 0});
  c->gateway = GatewayTarget{{"127.0.0.1", 8443}, "spiffe://example.org/ns/prod/sa/gateway"};
  c->local_limits.default_max_tokens = 100;
  c->local_limits.rules = std::move(rules);
  return c;
}

// The authority of an absolute-form request line ("POST http://agent-c/x HTTP/1.1"), else "x".
std::string host_of(const std::string& request_line) {
  const auto scheme = request_line.find("http://");
  if (scheme == std::string::npos) return "x";
  const auto start = scheme + 7;
  return request_line.substr(start, request_line.find('/', start) - start);
}

// One request through the filter: its head, its caller's identity (inbound) and body.
struct Call {
  std::string bytes;
  http::RequestHead head;
  tls::PeerIdentity identity;
  pipeline::RequestCtx ctx;
  Call(std::string request_line, std::size_t listener, std::string caller = {}, std::string body = {})
      : bytes(request_line + "\r\nHost: " + host_of(request_line) + "\r\n\r\n") {
    http::ParseError error;
    http::ParseLimits limits;
    limits.proxy_forms = listener == kOutboundListener;
    EXPECT_EQ(http::parse_request_head(bytes, limits, head, error), http::ParseStatus::Complete);
    ctx.head = &head;
    ctx.listener = listener;
    identity.spiffe_id = std::move(caller);
    if (listener == kInboundListener) ctx.peer_identity = &identity;
    ctx.body = std::move(body);
    if (!ctx.body.empty()) {
      std::string why;
      ctx.body_fields = providers::read_request_fields(ctx.body, why);
    }
  }
};

Call inbound(const std::string& caller) { return Call("POST /work HTTP/1.1", kInboundListener, caller); }

// Admits (and, when admitted, settles) one call; returns what admit decided.
Verdict through(LocalLimits& filter, Call& call) {
  const Verdict v = run_phase(filter.admit(call.ctx));
  if (v == Verdict::Continue) run_phase(filter.settle(call.ctx));
  return v;
}

std::string header(const pipeline::RequestCtx& ctx, std::string_view name) {
  for (const auto& [n, v] : ctx.response_headers)
    if (n == name) return v;
  return {};
}

TEST(LocalLimits, ARunawayCallerIsRefusedWhileItsNeighbourGoesOn) {
  LocalLimitState state;
  LocalLimits filter(config_with({rule("per-caller", config::LimitUnit::Requests, 2,
                                       {"spiffe://example.org/ns/prod/sa/*"}, {"local"}, true)}),
                     state);
  for (int i = 0; i < 2; ++i) {
    Call ok = inbound(kRunaway);
    EXPECT_EQ(through(filter, ok), Verdict::Continue);
  }
  Call refused = inbound(kRunaway);
  ASSERT_EQ(through(filter, refused), Verdict::Replied);
  EXPECT_EQ(refused.ctx.reply.status, 429);
  EXPECT_EQ(refused.ctx.outcome.error_code, "rate_limit_exceeded");
  EXPECT_NE(refused.ctx.outcome.error.find("\"per-caller\""), std::string::npos) << refused.ctx.outcome.error;
  EXPECT_NE(refused.ctx.outcome.error.find(kRunaway + " -> local"), std::string::npos);
  EXPECT_GE(std::stoi(header(refused.ctx, "retry-after")), 1);
  EXPECT_TRUE(refused.ctx.decision.denied);
  EXPECT_EQ(refused.ctx.decision.rule, "per-caller");
  EXPECT_FALSE(refused.ctx.features.get<limits::Reservation>().open);
  Call neighbour = inbound(kNeighbour);
  EXPECT_EQ(through(filter, neighbour), Verdict::Continue);
  std::string metrics;
  state.render_metrics(metrics);
  EXPECT_NE(metrics.find("tollway_sidecar_limit_denials_total{rule=\"per-caller\"} 1"), std::string::npos) << metrics;
}

TEST(LocalLimits, WithoutPerFromEveryMatchingCallerSharesOneCounter) {
  LocalLimitState state;
  LocalLimits filter(config_with({rule("shared", config::LimitUnit::Requests, 1)}), state);
  Call first = inbound(kRunaway);
  EXPECT_EQ(through(filter, first), Verdict::Continue);
  Call second = inbound(kNeighbour);
  EXPECT_EQ(through(filter, second), Verdict::Replied);
}

TEST(LocalLimits, RulesMatchTheCallerPatternAndTheDestination) {
  const auto config = config_with({
      rule("to-c", config::LimitUnit::Requests, 5, {}, {"agent-c"}),
      rule("from-runaway", config::LimitUnit::Requests, 5, {kRunaway}),
      rule("llm", config::LimitUnit::TotalTokens, 1000),
  });
  std::vector<limits::Counter> counters;
  std::vector<int64_t> amounts;
  std::vector<uint32_t> rules;
  plan_local_limits(config->local_limits, {kSelf, "agent-c", 0, 0, {}, {}}, kNow, counters, amounts, rules);
  EXPECT_EQ(rules, std::vector<uint32_t>{0});  // a token rule never counts a call to a peer
  rules.clear();
  plan_local_limits(config->local_limits, {kRunaway, "local", 0, 0, {}, {}}, kNow, counters, amounts, rules);
  EXPECT_EQ(rules, std::vector<uint32_t>{1});
  rules.clear();
  amounts.clear();
  plan_local_limits(config->local_limits, {kSelf, "gateway", 30, 70, {}, {}}, kNow, counters, amounts, rules);
  EXPECT_EQ(rules, std::vector<uint32_t>{2});
  EXPECT_EQ(amounts, std::vector<int64_t>{100});
}

TEST(LocalLimits, BudgetsCountPerCalendarPeriodUnderTheGatewaysKeyForm) {
  LocalLimitRule daily = rule("fleet-llm", config::LimitUnit::TotalTokens, 1000, {}, {"gateway"});
  daily.budget = true;
  daily.period = config::BudgetPeriod::Day;
  LocalLimitRule per_caller = rule("inbound", config::LimitUnit::Requests, 10, {}, {"local"}, true);
  per_caller.budget = true;
  per_caller.period = config::BudgetPeriod::Month;
  auto c = std::make_shared<SidecarConfig>(*config_with({daily, per_caller}));
  c->local_limits.leased = true;
  c->local_limits.rules[0].lease.on_lease_exhausted = config::LeaseExhausted::Wait;
  std::vector<limits::Counter> counters;
  std::vector<int64_t> amounts;
  std::vector<uint32_t> rules;
  plan_local_limits(c->local_limits, {kSelf, "gateway", 30, 70, {}, {}}, kNow + 3'600'000, counters, amounts, rules);
  ASSERT_EQ(counters.size(), 1u);
  // The key a gateway budget of the same name has: one fleet-wide budget whichever proxy spends from it.
  EXPECT_EQ(counters[0].key, "budget|fleet-llm|2026-12-01");
  EXPECT_EQ(counters[0].algorithm, limits::CounterAlgorithm::Budget);
  EXPECT_EQ(counters[0].window_ms, 23 * 3'600'000);  // until the UTC day ends
  EXPECT_EQ(counters[0].lease.on_lease_exhausted, limits::OnLeaseExhausted::Wait);
  EXPECT_EQ(amounts, std::vector<int64_t>{100});
  counters.clear();
  plan_local_limits(c->local_limits, {kRunaway, "local", 0, 0, {}, {}}, kNow, counters, amounts, rules);
  ASSERT_EQ(counters.size(), 1u);
  EXPECT_EQ(counters[0].key, "budget|inbound|from|" + kRunaway + "|2026-12");
}

TEST(LocalLimits, ABudgetDenialNamesTheBudgetAndItsPeriod) {
  LocalLimitState state;
  LocalLimitRule daily = rule("inbound-day", config::LimitUnit::Requests, 1, {}, {"local"});
  daily.budget = true;
  daily.period = config::BudgetPeriod::Day;
  LocalLimits filter(config_with({daily}), state);
  Call first = inbound(kNeighbour);
  EXPECT_EQ(through(filter, first), Verdict::Continue);
  Call second = inbound(kNeighbour);
  EXPECT_EQ(through(filter, second), Verdict::Replied);
  EXPECT_NE(second.ctx.decision.reason.find("budget \"inbound-day\" exceeded (1 requests per UTC day)"),
            std::string::npos)
      << second.ctx.decision.reason;
}

TEST(LocalLimits, CallsThatGoNowhereAreNotCounted) {
  LocalLimitState state;
  LocalLimits filter(config_with({rule("all", config::LimitUnit::Requests, 1)}), state);
  Call unknown_peer("POST http://agent-q/x HTTP/1.1", kOutboundListener);
  EXPECT_EQ(run_phase(filter.admit(unknown_peer.ctx)), Verdict::Continue);
  EXPECT_TRUE(unknown_peer.ctx.features.get<limits::Reservation>().counters.empty());
  Call peer("POST http://agent-c/x HTTP/1.1", kOutboundListener);
  EXPECT_EQ(through(filter, peer), Verdict::Continue);
  EXPECT_EQ(peer.ctx.features.get<limits::Reservation>().counters.size(), 1u);
}

TEST(LocalLimits, TokensReservedByEstimateAreSettledToTheReportedUsage) {
  LocalLimitState state;
  LocalLimits filter(config_with({rule("llm", config::LimitUnit::TotalTokens, 200, {}, {"gateway"})}), state);
  const std::string body = R"({"model":"gpt-4o","max_tokens":150,"messages":[{"role":"user","content":"hi"}]})";
  Call first("POST /v1/chat/completions HTTP/1.1", kOutboundListener, {}, body);
  ASSERT_EQ(run_phase(filter.admit(first.ctx)), Verdict::Continue);
  ASSERT_EQ(first.ctx.features.get<limits::Reservation>().amounts.size(), 1u);
  const int64_t reserved = first.ctx.features.get<limits::Reservation>().amounts[0];
  EXPECT_GT(reserved, 150);  // the prompt, counted, plus max_tokens
  EXPECT_LT(reserved, 200);
  // While the first call is open, its reservation leaves no room for a second like it.
  Call blocked("POST /v1/chat/completions HTTP/1.1", kOutboundListener, {}, body);
  EXPECT_EQ(run_phase(filter.admit(blocked.ctx)), Verdict::Replied);
  first.ctx.usage.known = true;
  first.ctx.usage.input_tokens = 10;
  first.ctx.usage.output_tokens = 20;
  run_phase(filter.settle(first.ctx));
  EXPECT_FALSE(first.ctx.features.get<limits::Reservation>().open);
  // Settled to 30 tokens: the same call fits now.
  Call second("POST /v1/chat/completions HTTP/1.1", kOutboundListener, {}, body);
  ASSERT_EQ(run_phase(filter.admit(second.ctx)), Verdict::Continue);
  // No usage read (an error answer): its tokens are given back.
  run_phase(filter.settle(second.ctx));
  Call third("POST /v1/chat/completions HTTP/1.1", kOutboundListener, {}, body);
  EXPECT_EQ(run_phase(filter.admit(third.ctx)), Verdict::Continue);
}

TEST(LocalLimits, WithoutMaxTokensTheDefaultIsReserved) {
  LocalLimitState state;
  LocalLimits filter(config_with({rule("out", config::LimitUnit::OutputTokens, 1000)}), state);
  Call call("POST /v1/chat/completions HTTP/1.1", kOutboundListener, {},
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(run_phase(filter.admit(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.features.get<limits::Reservation>().amounts, std::vector<int64_t>{100});  // limits.default_max_tokens
  run_phase(filter.settle(call.ctx));
}

TEST(LocalLimits, AShadowRuleCountsWhatItWouldDenyAndDeniesNothing) {
  LocalLimitState state;
  auto shadow = rule("watch", config::LimitUnit::Requests, 1);
  shadow.shadow = true;
  LocalLimits filter(config_with({shadow}), state);
  for (int i = 0; i < 3; ++i) {
    Call call = inbound(kRunaway);
    EXPECT_EQ(through(filter, call), Verdict::Continue);
  }
  std::string metrics;
  state.render_metrics(metrics);
  EXPECT_NE(metrics.find("tollway_sidecar_limit_shadow_denials_total{rule=\"watch\"} 2"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("tollway_sidecar_limit_denials_total{"), std::string::npos);
}

}  // namespace
}  // namespace tollway::sidecar
