// LimitsFilter built from its own configuration (the limits policy, prices and model aliases) and a
// LimitsRuntime with the in-process ledger, no gateway: admit reserves what a request may consume and refuses
// with 429 and retry-after when a rule or budget has no room (a shadow rule only reports), refuses a bad
// session id, an unpriced model under a USD limit and a request over the model's context window; settle
// replaces the reservation by what was used; a raw-body route is held to request counts; every decision is in
// the runtime's metrics.
#include "limits/admission/filter.h"
#include "providers/routing/route_choice.h"

#include <gtest/gtest.h>

#include <string>

#include "../../filter_phase.h"

namespace tollway::limits {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

config::RateLimitRule rate_rule(std::string name, config::LimitUnit unit, int64_t limit) {
  config::RateLimitRule rule;
  rule.name = std::move(name);
  rule.unit = unit;
  rule.limit = limit;
  return rule;
}

LimitsFilter::Config config_with(std::vector<config::RateLimitRule> rules) {
  LimitsFilter::Config c;
  c.policy.rules = std::move(rules);
  c.pricing.models.push_back({"gpt-4o*", {2'500'000, 10'000'000, 0, 0}, 0});
  return c;
}

// A chat completion request with `body` on a JSON route, from tenant "acme".
struct Call {
  http::RequestHead head;
  config::RouteConfig route;
  pipeline::RequestCtx ctx;

  explicit Call(std::string body, std::vector<http::Header> headers = {}) {
    head.method = "POST";
    head.target = "/v1/chat/completions";
    head.headers = std::move(headers);
    ctx.head = &head;
    ctx.features.get<providers::RouteChoice>().route = &route;
    ctx.caller.tenant = "acme";
    ctx.body = std::move(body);
    std::string error;
    ctx.body_fields = providers::read_request_fields(ctx.body, error);
  }
};

constexpr std::string_view kSmallRequest =
    R"({"model":"gpt-4o","max_tokens":600,"messages":[{"role":"user","content":"hi"}]})";

std::optional<std::string> header(const pipeline::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return std::nullopt;
}

bool metrics_have(const LimitsRuntime& runtime, std::string_view sample) {
  std::string out;
  runtime.render_metrics(out);
  return out.find(sample) != std::string::npos;
}

TEST(LimitsFilter, WithoutRulesNothingIsReserved) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({}), runtime);
  Call call{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(call.ctx)), Verdict::Continue);
  EXPECT_FALSE(call.ctx.features.get<Reservation>().open);
  EXPECT_TRUE(call.ctx.response_headers.empty());
  EXPECT_EQ(call.ctx.features.get<Reservation>().model, "gpt-4o");
}

TEST(LimitsFilter, ARequestRateIsEnforcedWithRetryAfter) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({rate_rule("two_a_minute", config::LimitUnit::Requests, 2)}), runtime);
  for (int i = 0; i < 2; ++i) {
    Call call{std::string(kSmallRequest)};
    EXPECT_EQ(run_phase(filter.admit(call.ctx)), Verdict::Continue);
    EXPECT_TRUE(call.ctx.features.get<Reservation>().open);
    EXPECT_EQ(header(call.ctx.response_headers, "x-ratelimit-limit-requests"), "2");
    EXPECT_EQ(header(call.ctx.response_headers, "x-ratelimit-remaining-requests"), std::to_string(1 - i));
  }
  EXPECT_EQ(runtime.reservations_open(), 2);
  Call third{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(third.ctx)), Verdict::Replied);
  EXPECT_EQ(third.ctx.reply.status, 429);
  EXPECT_EQ(third.ctx.outcome.error_code, "rate_limit_exceeded");
  EXPECT_TRUE(header(third.ctx.reply.headers, "retry-after"));
  EXPECT_EQ(header(third.ctx.reply.headers, "x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(third.ctx.features.get<Reservation>().open);
  EXPECT_TRUE(third.ctx.decision.denied);
  EXPECT_EQ(third.ctx.decision.filter, "limits");
  EXPECT_EQ(third.ctx.decision.rule, "two_a_minute");
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_decisions_total{result="admitted"} 2)"));
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_denials_total{rule="two_a_minute"} 1)"));
}

TEST(LimitsFilter, AShadowRuleReportsAndAdmits) {
  LimitsRuntime runtime;
  config::RateLimitRule rule = rate_rule("would_limit", config::LimitUnit::Requests, 1);
  rule.shadow = true;
  LimitsFilter filter(config_with({rule}), runtime);
  Call first{std::string(kSmallRequest)}, second{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(first.ctx)), Verdict::Continue);
  EXPECT_EQ(run_phase(filter.admit(second.ctx)), Verdict::Continue);
  EXPECT_FALSE(second.ctx.decision.denied);
  EXPECT_EQ(second.ctx.decision.shadow_rules, std::vector<std::string>{"would_limit"});
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_shadow_denials_total{rule="would_limit"} 1)"));
}

TEST(LimitsFilter, SettleChargesWhatWasUsedInsteadOfWhatWasReserved) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({rate_rule("tokens", config::LimitUnit::TotalTokens, 1000)}), runtime);
  Call first{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(first.ctx)), Verdict::Continue);
  Call refused{std::string(kSmallRequest)};  // 600 more output tokens do not fit while the first is reserved
  EXPECT_EQ(run_phase(filter.admit(refused.ctx)), Verdict::Replied);
  EXPECT_EQ(refused.ctx.outcome.error_code, "rate_limit_exceeded");

  first.ctx.usage.known = true;
  first.ctx.usage.input_tokens = 8;
  first.ctx.usage.output_tokens = 2;
  run_phase(filter.settle(first.ctx));
  EXPECT_FALSE(first.ctx.features.get<Reservation>().open);
  EXPECT_EQ(runtime.reservations_open(), 0);
  Call after{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(after.ctx)), Verdict::Continue);
}

TEST(LimitsFilter, NoAnswerReleasesTheWholeReservation) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({rate_rule("tokens", config::LimitUnit::TotalTokens, 1000)}), runtime);
  Call failed{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(failed.ctx)), Verdict::Continue);
  run_phase(filter.settle(failed.ctx));  // no usage: no upstream answered
  Call next{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(next.ctx)), Verdict::Continue);
  EXPECT_EQ(header(next.ctx.response_headers, "x-ratelimit-limit-tokens"), "1000");
}

TEST(LimitsFilter, ABudgetDeniesWithItsOwnCode) {
  LimitsRuntime runtime;
  LimitsFilter::Config config = config_with({});
  config::BudgetRule budget;
  budget.name = "monthly";
  budget.unit = config::LimitUnit::Requests;
  budget.limit = 1;
  config.policy.budgets.push_back(budget);
  LimitsFilter filter(config, runtime);
  Call first{std::string(kSmallRequest)}, second{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(first.ctx)), Verdict::Continue);
  EXPECT_EQ(run_phase(filter.admit(second.ctx)), Verdict::Replied);
  EXPECT_EQ(second.ctx.reply.status, 429);
  EXPECT_EQ(second.ctx.outcome.error_code, "budget_exceeded");
  EXPECT_EQ(second.ctx.decision.rule, "monthly");
}

TEST(LimitsFilter, ASessionIdMustBeVisibleAscii) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({}), runtime);
  Call bad{std::string(kSmallRequest), {{"x-session-id", "two words"}}};
  EXPECT_EQ(run_phase(filter.admit(bad.ctx)), Verdict::Replied);
  EXPECT_EQ(bad.ctx.reply.status, 400);
  EXPECT_EQ(bad.ctx.outcome.error_code, "invalid_session_id");
  Call good{std::string(kSmallRequest), {{"x-session-id", "session-1"}}};
  EXPECT_EQ(run_phase(filter.admit(good.ctx)), Verdict::Continue);
  EXPECT_EQ(good.ctx.features.get<Reservation>().session, "session-1");
}

TEST(LimitsFilter, AnUnpricedModelUnderAUsdLimitFollowsPricingUnpriced) {
  const std::string unpriced = R"({"model":"mystery","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})";
  LimitsRuntime runtime;
  LimitsFilter denying(config_with({rate_rule("dollars", config::LimitUnit::CostUsd, 1'000'000)}), runtime);
  Call denied{unpriced};
  EXPECT_EQ(run_phase(denying.admit(denied.ctx)), Verdict::Replied);
  EXPECT_EQ(denied.ctx.reply.status, 403);
  EXPECT_EQ(denied.ctx.outcome.error_code, "model_not_priced");
  EXPECT_EQ(denied.ctx.decision.rule, "unpriced_model");

  LimitsFilter::Config allow = config_with({rate_rule("dollars", config::LimitUnit::CostUsd, 1'000'000)});
  allow.pricing.unpriced = config::Unpriced::Allow;
  LimitsFilter allowing(allow, runtime);
  Call allowed{unpriced};
  EXPECT_EQ(run_phase(allowing.admit(allowed.ctx)), Verdict::Continue);
  EXPECT_TRUE(allowed.ctx.features.get<Reservation>().usd_uncharged);
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_unpriced_model_total{action="denied"} 1)"));
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_unpriced_model_total{action="allowed"} 1)"));
}

TEST(LimitsFilter, TheContextGuardRejectsOrWarns) {
  LimitsRuntime runtime;
  LimitsFilter::Config config = config_with({});
  config.policy.sessions.context_guard = config::ContextGuard::Reject;
  config.policy.sessions.context_windows.push_back({"gpt-4o*", 500});
  LimitsFilter rejecting(config, runtime);
  Call call{std::string(kSmallRequest)};  // 600 output tokens alone exceed 500
  EXPECT_EQ(run_phase(rejecting.admit(call.ctx)), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 400);
  EXPECT_EQ(call.ctx.outcome.error_code, "context_length_exceeded");

  config.policy.sessions.context_guard = config::ContextGuard::Warn;
  LimitsFilter warning(config, runtime);
  Call warned{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(warning.admit(warned.ctx)), Verdict::Continue);
  EXPECT_TRUE(header(warned.ctx.response_headers, "x-tollway-context-warning"));
  EXPECT_TRUE(metrics_have(runtime, R"(tollway_limits_context_guard_total{action="rejected"} 1)"));
}

TEST(LimitsFilter, AnAliasIsLimitedAsTheModelServingItFirst) {
  LimitsRuntime runtime;
  config::RateLimitRule rule = rate_rule("gpt_requests", config::LimitUnit::Requests, 1);
  rule.match.model = "gpt-4o";
  LimitsFilter::Config config = config_with({rule});
  config.model_aliases.push_back({"smart", {"gpt-4o", "claude-x"}, 0});
  LimitsFilter filter(config, runtime);
  Call first{R"({"model":"smart","max_tokens":10,"messages":[]})"};
  EXPECT_EQ(run_phase(filter.admit(first.ctx)), Verdict::Continue);
  EXPECT_EQ(first.ctx.features.get<Reservation>().model, "gpt-4o");
  Call second{std::string(kSmallRequest)};
  EXPECT_EQ(run_phase(filter.admit(second.ctx)), Verdict::Replied);  // the same counter
}

TEST(LimitsFilter, ARawBodyRouteIsHeldToRequestCounts) {
  LimitsRuntime runtime;
  LimitsFilter filter(config_with({rate_rule("tokens", config::LimitUnit::TotalTokens, 10),
                                   rate_rule("requests", config::LimitUnit::Requests, 5)}),
                      runtime);
  Call upload{""};
  upload.head.target = "/v1/audio/transcriptions";
  upload.route.body = config::RouteBody::Raw;
  upload.ctx.body_fields.reset();
  EXPECT_EQ(run_phase(filter.admit(upload.ctx)), Verdict::Continue);
  ASSERT_EQ(upload.ctx.features.get<Reservation>().counters.size(), 1u);
  EXPECT_EQ(header(upload.ctx.response_headers, "x-ratelimit-limit-requests"), "5");
  EXPECT_FALSE(header(upload.ctx.response_headers, "x-ratelimit-limit-tokens"));
}

}  // namespace
}  // namespace tollway::limits
