// ProviderRouteFilter built from its own configuration (providers, model rules, model aliases) and the
// providers' upstreams, no gateway: the body's model picks the provider by the first matching rule, a request
// without one goes to its route's provider, an alias is served by its models in order and then by the route's
// fallback entries, a model of the other API is refused with 400 unless the route translates it, the Host and
// target follow the chosen endpoint, the chosen model is written into the body, and when every endpoint is
// ejected the filter answers 503 if a fallback can serve and otherwise tries anyway.
#include "providers/routing/filter.h"
#include "providers/routing/route_choice.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "../../filter_phase.h"
#include "providers/request_fields.h"
#include "providers/resilience/attempt_plan.h"

namespace tollway::providers {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

enum Provider : std::size_t { kOpenAI, kAnthropic, kGemini, kLocal };

config::EndpointConfig endpoint(std::string host, uint16_t port, bool tls, std::string path_prefix = "") {
  config::EndpointConfig e;
  e.url = std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port) + path_prefix;
  e.tls = tls;
  e.host = std::move(host);
  e.port = port;
  e.path_prefix = std::move(path_prefix);
  return e;
}

config::ProviderConfig provider(std::string name, config::Api api, std::vector<config::EndpointConfig> endpoints) {
  config::ProviderConfig p;
  p.name = std::move(name);
  p.api = api;
  p.endpoints = std::move(endpoints);
  p.tls = p.endpoints[0].tls;
  p.host = p.endpoints[0].host;
  p.port = p.endpoints[0].port;
  p.path_prefix = p.endpoints[0].path_prefix;
  p.breaker.failures = 1;
  return p;
}

ProviderRouteFilter::Config routing_config() {
  ProviderRouteFilter::Config c;
  c.providers = {provider("openai", config::Api::OpenAI, {endpoint("api.openai.test", 443, true)}),
                 provider("anthropic", config::Api::Anthropic, {endpoint("10.0.0.7", 9001, false, "/anthropic")}),
                 provider("gemini", config::Api::Gemini, {endpoint("::1", 8443, true)}),
                 provider("local", config::Api::OpenAI,
                          {endpoint("10.0.0.5", 8000, false), endpoint("10.0.0.6", 8000, false)})};
  c.models = {{"gpt-*", kOpenAI, 1, "models[0]"},
              {"claude-*", kAnthropic, 2, "models[1]"},
              {"gemini-*", kGemini, 3, "models[2]"},
              {"local-*", kLocal, 4, "models[3]"}};
  c.model_aliases = {{"smart", {"gpt-4o", "local-llama"}, 5}};
  return c;
}

// The providers' upstreams as the snapshot holds them: one balancer per provider over its endpoints.
struct Upstreams {
  std::vector<pipeline::ProviderUpstreams> list;
  explicit Upstreams(const ProviderRouteFilter::Config& config) {
    for (const auto& p : config.providers) {
      pipeline::ProviderUpstreams u;
      std::vector<resilience::ProviderBalancer::Endpoint> health;
      for (const auto& e : p.endpoints) {
        http::UpstreamEndpoint upstream;
        upstream.host = e.host;
        upstream.port = e.port;
        upstream.tls = e.tls;
        u.endpoints.push_back(std::move(upstream));
        health.push_back({std::make_shared<resilience::EndpointHealth>(p.name, e.url), e.weight});
      }
      u.balancer = std::make_unique<resilience::ProviderBalancer>(p.load_balancing, p.breaker, std::move(health),
                                                                  nullptr);
      list.push_back(std::move(u));
    }
  }
  // Ejects every endpoint of `provider` (its breaker opens after one failure).
  void eject_all(std::size_t provider) {
    auto& balancer = *list[provider].balancer;
    const auto now = resilience::Clock::now();
    while (auto lease = balancer.pick(now)) lease->finish(resilience::EndpointVerdict::Failure, {}, now);
  }
};

// A request on `route` with JSON body `body` (no body fields when empty: a raw route).
struct Call {
  http::RequestHead head;
  pipeline::RequestCtx ctx;
  Call(const config::RouteConfig& route, std::string body) {
    head.method = "POST";
    head.target = route.path;
    ctx.head = &head;
    ctx.features.get<providers::RouteChoice>().route = &route;
    ctx.api = route.api;
    ctx.upstream.target = route.path;
    ctx.body = std::move(body);
    std::string error;
    if (!ctx.body.empty()) ctx.body_fields = read_request_fields(ctx.body, error);
  }
};

struct Fixture {
  ProviderRouteFilter::Config config = routing_config();
  Upstreams upstreams{config};
  config::RouteConfig chat;
  ProviderRouteFilter filter{config, upstreams.list};
  Fixture() {
    chat.path = "/v1/chat/completions";
    chat.api = config::Api::OpenAI;
    chat.provider = kOpenAI;
    chat.fallback = {{kLocal, "local-fallback"}};
  }
  // authorize, then select_upstream for `candidate`.
  Verdict route(Call& call, std::size_t candidate = 0) {
    EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
    call.ctx.attempt.candidate = candidate;
    return run_phase(filter.select_upstream(call.ctx));
  }
};

TEST(ProviderRouteFilter, TheModelPicksTheProviderByTheFirstMatchingRule) {
  Fixture f;
  Call call(f.chat, R"({"model":"local-llama","max_tokens":50,"stream":true})");
  EXPECT_EQ(f.route(call), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.provider, "local");
  EXPECT_EQ(call.ctx.upstream.api, config::Api::OpenAI);
  EXPECT_EQ(call.ctx.model, "local-llama");
  EXPECT_EQ(call.ctx.request.max_output_tokens, 50u);
  EXPECT_TRUE(call.ctx.request.stream);
  ASSERT_NE(call.ctx.upstream.endpoint, nullptr);
  EXPECT_EQ(call.ctx.upstream.endpoint, &f.upstreams.list[kLocal].endpoints[0]);
  EXPECT_EQ(call.ctx.upstream.host_header, "10.0.0.5:8000");
  EXPECT_EQ(call.ctx.upstream.balancer, f.upstreams.list[kLocal].balancer.get());
  EXPECT_EQ(providers::alias_of(call.ctx), nullptr);
}

TEST(ProviderRouteFilter, AnUnmatchedOrMissingModelGoesToTheRoutesProvider) {
  Fixture f;
  Call unmatched(f.chat, R"({"model":"mistral-large"})");
  EXPECT_EQ(f.route(unmatched), Verdict::Continue);
  EXPECT_EQ(unmatched.ctx.upstream.provider, "openai");
  EXPECT_EQ(unmatched.ctx.upstream.host_header, "api.openai.test");  // the default port is left out

  Call raw(f.chat, "");  // no body fields (a `body: raw` route)
  EXPECT_EQ(f.route(raw), Verdict::Continue);
  EXPECT_EQ(raw.ctx.upstream.provider, "openai");
  EXPECT_EQ(raw.ctx.model, "");
}

TEST(ProviderRouteFilter, TheTargetGoesUnderTheEndpointsBasePath) {
  Fixture f;
  config::RouteConfig messages;
  messages.path = "/v1/messages";
  messages.api = config::Api::Anthropic;
  messages.provider = kAnthropic;
  Call call(messages, R"({"model":"claude-sonnet","max_tokens":10})");
  EXPECT_EQ(f.route(call), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.provider, "anthropic");
  EXPECT_EQ(call.ctx.upstream.target, "/anthropic/v1/messages");
  EXPECT_EQ(call.ctx.upstream.host_header, "10.0.0.7:9001");
}

TEST(ProviderRouteFilter, AnAliasIsServedByItsModelsInOrderThenByTheRoutesFallback) {
  Fixture f;
  const std::string body = R"({"model":"smart","messages":[]})";
  Call first(f.chat, body);
  EXPECT_EQ(f.route(first, 0), Verdict::Continue);
  ASSERT_NE(providers::alias_of(first.ctx), nullptr);
  EXPECT_EQ(providers::alias_of(first.ctx)->name, "smart");
  // The driver plans the alias's two models, then the route's one fallback, each with the route's retries.
  EXPECT_EQ(first.ctx.upstream_plan.candidates, 3u);
  EXPECT_EQ(first.ctx.upstream_plan.retries, &f.chat.retries);
  EXPECT_EQ(first.ctx.model, "gpt-4o");
  EXPECT_EQ(first.ctx.upstream.provider, "openai");
  EXPECT_EQ(run_phase(f.filter.shape_upstream(first.ctx)), Verdict::Continue);
  EXPECT_EQ(first.ctx.body, R"({"model":"gpt-4o","messages":[]})");

  Call second(f.chat, body);
  EXPECT_EQ(f.route(second, 1), Verdict::Continue);
  EXPECT_EQ(second.ctx.model, "local-llama");
  EXPECT_EQ(second.ctx.upstream.provider, "local");

  Call fallback(f.chat, body);
  EXPECT_EQ(f.route(fallback, 2), Verdict::Continue);
  EXPECT_EQ(fallback.ctx.model, "local-fallback");
  EXPECT_EQ(fallback.ctx.upstream.provider, "local");
  EXPECT_EQ(run_phase(f.filter.shape_upstream(fallback.ctx)), Verdict::Continue);
  EXPECT_EQ(fallback.ctx.body, R"({"model":"local-fallback","messages":[]})");
}

TEST(ProviderRouteFilter, TheCallersModelIsLeftInTheBodyWhenItServes) {
  Fixture f;
  const std::string body = R"({"model":"gpt-4o-mini","messages":[]})";
  Call call(f.chat, body);
  EXPECT_EQ(f.route(call), Verdict::Continue);
  EXPECT_EQ(run_phase(f.filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.body, body);
}

TEST(ProviderRouteFilter, AModelOfTheOtherApiNeedsTranslationOnTheRoute) {
  Fixture f;
  Call translated(f.chat, R"({"model":"claude-sonnet"})");
  EXPECT_EQ(f.route(translated), Verdict::Continue);
  EXPECT_EQ(translated.ctx.upstream.provider, "anthropic");
  EXPECT_EQ(translated.ctx.upstream.api, config::Api::Anthropic);

  f.chat.translate = false;
  Call refused(f.chat, R"({"model":"claude-sonnet"})");
  EXPECT_EQ(f.route(refused), Verdict::Replied);
  EXPECT_EQ(refused.ctx.reply.status, 400);
  EXPECT_EQ(refused.ctx.outcome.error_code, "model_api_mismatch");
  EXPECT_NE(refused.ctx.outcome.error.find("translation is off"), std::string::npos) << refused.ctx.outcome.error;
  EXPECT_EQ(refused.ctx.upstream.endpoint, nullptr);
}

TEST(ProviderRouteFilter, GeminiIsNeverTranslated) {
  Fixture f;
  Call call(f.chat, R"({"model":"gemini-2.0-flash"})");
  EXPECT_EQ(f.route(call), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 400);
  EXPECT_EQ(call.ctx.outcome.error_code, "model_api_mismatch");
  EXPECT_NE(call.ctx.outcome.error.find("Gemini requests are never translated"), std::string::npos);
}

TEST(ProviderRouteFilter, AnIpv6EndpointsHostIsBracketed) {
  Fixture f;
  config::RouteConfig gemini;
  gemini.path = "/v1beta/models/";
  gemini.is_prefix = true;
  gemini.api = config::Api::Gemini;
  gemini.provider = kGemini;
  Call call(gemini, "");
  EXPECT_EQ(f.route(call), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.provider, "gemini");
  EXPECT_EQ(call.ctx.upstream.host_header, "[::1]:8443");
}

TEST(ProviderRouteFilter, EveryEndpointEjectedIs503WhenAFallbackCanServe) {
  Fixture f;
  f.upstreams.eject_all(kLocal);
  const auto deadline = resilience::Clock::now() + std::chrono::minutes(1);
  config::RetryPolicy no_retries;
  no_retries.attempts = 0;
  resilience::AttemptPlan plan(no_retries, 2, deadline);
  Call call(f.chat, R"({"model":"local-llama"})");
  call.ctx.attempt.plan = &plan;
  EXPECT_EQ(f.route(call), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 503);
  EXPECT_EQ(call.ctx.outcome.error_code, "upstream_unavailable");
  EXPECT_EQ(call.ctx.outcome.failure, resilience::AttemptFailure::CircuitOpen);
  bool retry_after = false;
  for (const auto& [name, value] : call.ctx.reply.headers) retry_after |= name == "retry-after" && !value.empty();
  EXPECT_TRUE(retry_after);
}

TEST(ProviderRouteFilter, EveryEndpointEjectedAndNothingElseToTryGoesAheadAnyway) {
  Fixture f;
  f.upstreams.eject_all(kLocal);
  Call call(f.chat, R"({"model":"local-llama"})");  // no plan: nothing else would be tried
  EXPECT_EQ(f.route(call), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.provider, "local");
  EXPECT_NE(call.ctx.upstream.endpoint, nullptr);
}

}  // namespace
}  // namespace tollway::providers
