// PolicyAuthzFilter, which reads no configuration (the caller's policy comes with its credential), built with
// its denial counters alone: it lets unauthenticated and unrestricted callers through, refuses another tenant,
// a path, a model or an output limit the policy does not allow, and a model or token policy on a raw-body route,
// each with 403, its code, the decision for the decision log and its own counter.
#include "auth/authz/filter.h"
#include "providers/routing/route_choice.h"

#include <gtest/gtest.h>

#include <string>

#include "../../filter_phase.h"

namespace tollway::auth {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

// An authenticated caller of tenant "acme" with `policy` (none when null) asking `target` with `body`.
struct Call {
  http::RequestHead head;
  config::RouteConfig route;
  pipeline::RequestCtx ctx;

  Call(std::shared_ptr<const CallerPolicy> policy, std::string_view target, std::string body,
       std::vector<http::Header> headers = {}) {
    head.target = target;
    head.headers = std::move(headers);
    ctx.head = &head;
    ctx.features.get<providers::RouteChoice>().route = &route;
    ctx.caller.authenticated = true;
    ctx.caller.tenant = "acme";
    ctx.caller.policy = std::move(policy);
    ctx.body = std::move(body);
    std::string error;
    if (!ctx.body.empty()) ctx.body_fields = providers::read_request_fields(ctx.body, error);
  }
};

std::shared_ptr<const CallerPolicy> policy(std::vector<std::string> routes, std::vector<std::string> models,
                                           uint64_t max_tokens) {
  auto p = std::make_shared<CallerPolicy>();
  p->routes = std::move(routes);
  p->models = std::move(models);
  p->max_tokens = max_tokens;
  return p;
}

constexpr std::string_view kChat = "/v1/chat/completions";

void expect_denied(Call& call, std::string_view code) {
  EXPECT_EQ(call.ctx.reply.status, 403);
  EXPECT_EQ(call.ctx.outcome.error_code, code);
  EXPECT_TRUE(call.ctx.decision.denied);
  EXPECT_EQ(call.ctx.decision.filter, "policy_authz");
  EXPECT_EQ(call.ctx.decision.rule, code);
  EXPECT_FALSE(call.ctx.decision.reason.empty());
}

TEST(PolicyAuthzFilter, AnUnauthenticatedCallerIsNotItsToDecide) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  Call call(policy({"/nowhere"}, {}, 0), kChat, "", {{"x-tollway-tenant", "other"}});
  call.ctx.caller.authenticated = false;
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.reply.status, 0);
  EXPECT_TRUE(call.ctx.upstream.drop_headers.empty());
}

TEST(PolicyAuthzFilter, ACallerWithoutPolicyGoesOnAndTheTenantHeaderStaysHere) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  Call call(nullptr, kChat, R"({"model":"anything"})", {{"X-Tollway-Tenant", "acme"}});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.drop_headers, std::vector<std::string>{"x-tollway-tenant"});
}

TEST(PolicyAuthzFilter, AnotherTenantIsRefused) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  Call call(nullptr, kChat, "", {{"X-Tollway-Tenant", "globex"}});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Replied);
  expect_denied(call, "tenant_mismatch");
  EXPECT_EQ(denials.tenant.load(), 1u);
}

TEST(PolicyAuthzFilter, RoutesAndModelsOutsideThePolicyAreRefused) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  const auto limited = policy({"/v1/chat/*"}, {"gpt-4o*"}, 0);
  Call allowed(limited, kChat, R"({"model":"gpt-4o-mini"})");
  EXPECT_EQ(run_phase(filter.authorize(allowed.ctx)), Verdict::Continue);

  Call wrong_route(limited, "/v1/embeddings", R"({"model":"gpt-4o-mini"})");
  EXPECT_EQ(run_phase(filter.authorize(wrong_route.ctx)), Verdict::Replied);
  expect_denied(wrong_route, "route_not_allowed");
  EXPECT_NE(wrong_route.ctx.outcome.error.find("/v1/embeddings"), std::string::npos);

  Call wrong_model(limited, kChat, R"({"model":"claude-3"})");
  EXPECT_EQ(run_phase(filter.authorize(wrong_model.ctx)), Verdict::Replied);
  expect_denied(wrong_model, "model_not_allowed");

  Call no_body(limited, "/v1/chat/models", "");  // nothing to check a model in
  EXPECT_EQ(run_phase(filter.authorize(no_body.ctx)), Verdict::Continue);
  EXPECT_EQ(denials.route.load(), 1u);
  EXPECT_EQ(denials.model.load(), 1u);
}

TEST(PolicyAuthzFilter, AnOutputCapNeedsALimitWithinIt) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  const auto capped = policy({}, {}, 1000);
  Call within(capped, kChat, R"({"model":"m","max_tokens":1000})");
  EXPECT_EQ(run_phase(filter.authorize(within.ctx)), Verdict::Continue);

  Call unset(capped, kChat, R"({"model":"m"})");
  EXPECT_EQ(run_phase(filter.authorize(unset.ctx)), Verdict::Replied);
  expect_denied(unset, "max_tokens_required");

  Call over(capped, kChat, R"({"model":"m","max_completion_tokens":1001,"max_tokens":10})");
  EXPECT_EQ(run_phase(filter.authorize(over.ctx)), Verdict::Replied);
  expect_denied(over, "max_tokens_exceeded");
  EXPECT_EQ(denials.max_tokens.load(), 2u);
}

TEST(PolicyAuthzFilter, AModelPolicyCannotBeCheckedOnARawBodyRoute) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  Call raw(policy({}, {"gpt-*"}, 0), "/v1/audio/transcriptions", "");
  raw.route.body = config::RouteBody::Raw;
  EXPECT_EQ(run_phase(filter.authorize(raw.ctx)), Verdict::Replied);
  expect_denied(raw, "policy_needs_json_body");

  Call routes_only(policy({"/v1/audio/*"}, {}, 0), "/v1/audio/transcriptions", "");
  routes_only.route.body = config::RouteBody::Raw;
  EXPECT_EQ(run_phase(filter.authorize(routes_only.ctx)), Verdict::Continue);
  EXPECT_EQ(denials.raw_body.load(), 1u);
}

TEST(PolicyAuthzFilter, CountsEachDenialUnderItsReason) {
  AuthzDenials denials;
  PolicyAuthzFilter filter(denials);
  Call call(policy({}, {"gpt-*"}, 0), kChat, R"({"model":"claude"})");
  run_phase(filter.authorize(call.ctx));
  std::string metrics;
  denials.render_metrics(metrics);
  EXPECT_NE(metrics.find(R"(tollway_authz_denials_total{reason="model_not_allowed"} 1)"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(tollway_authz_denials_total{reason="route_not_allowed"} 0)"), std::string::npos);
}

}  // namespace
}  // namespace tollway::auth
