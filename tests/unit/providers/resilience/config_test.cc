#include "config/loader.h"

#include <gtest/gtest.h>

#include "../../config_text.h"

namespace tollway::config {
namespace {

using test_text::all_errors;
const auto parse = test_text::parse_without_env;

std::string config_with(const std::string& primary_extra, const std::string& route_extra) {
  return "version: 1\nproviders:\n  primary:\n    api: openai\n" + primary_extra +
         "  backup:\n    api: openai\n    base_url: http://127.0.0.1:9000\n"
         "  claude:\n    api: anthropic\n    base_url: https://api.anthropic.com\n"
         "routes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: primary\n" +
         route_extra;
}

TEST(ResilienceConfig, DefaultsWithBaseUrl) {
  auto r = parse(config_with("    base_url: https://api.openai.com/v1/\n", ""));
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& p = r.config->providers[0];
  ASSERT_EQ(p.endpoints.size(), 1u);
  EXPECT_EQ(p.endpoints[0].url, "https://api.openai.com:443/v1");
  EXPECT_EQ(p.endpoints[0].path_prefix, "/v1");
  EXPECT_EQ(p.host, "api.openai.com");
  EXPECT_EQ(p.load_balancing, LoadBalancing::RoundRobin);
  EXPECT_EQ(p.breaker.failures, 5u);
  EXPECT_EQ(p.breaker.base_ejection.count(), 30'000);
  EXPECT_EQ(p.breaker.max_ejection.count(), 300'000);
  const auto& route = r.config->routes[0];
  EXPECT_EQ(route.retries.attempts, 2u);
  EXPECT_EQ(route.retries.backoff_base.count(), 200);
  EXPECT_EQ(route.retries.backoff_max.count(), 5'000);
  EXPECT_TRUE(route.retries.on_connect && route.retries.on_429 && route.retries.on_5xx);
  EXPECT_FALSE(route.retries.on_timeout);
  EXPECT_TRUE(route.fallback.empty());
}

TEST(ResilienceConfig, EndpointsPolicyBreakerRetriesFallback) {
  auto r = parse(config_with(
      "    endpoints:\n      - http://10.0.0.1:8000\n      - {url: \"http://10.0.0.2:8000/base/\", weight: 3}\n"
      "    load_balancing: latency_ewma\n    breaker: {failures: 2, base_ejection: 5s, max_ejection: 1m}\n",
      "    retries: {attempts: 1, backoff_base: 50ms, backoff_max: 2s, on: [timeout, 429]}\n"
      "    fallback:\n      - {provider: backup}\n      - {provider: claude, model: claude-sonnet-4-5}\n"));
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& p = r.config->providers[0];
  ASSERT_EQ(p.endpoints.size(), 2u);
  EXPECT_EQ(p.endpoints[0].url, "http://10.0.0.1:8000");
  EXPECT_EQ(p.endpoints[0].weight, 1u);
  EXPECT_EQ(p.endpoints[1].url, "http://10.0.0.2:8000/base");
  EXPECT_EQ(p.endpoints[1].path_prefix, "/base");
  EXPECT_EQ(p.endpoints[1].weight, 3u);
  EXPECT_EQ(p.host, "10.0.0.1");
  EXPECT_EQ(p.load_balancing, LoadBalancing::LatencyEwma);
  EXPECT_EQ(p.breaker.failures, 2u);
  EXPECT_EQ(p.breaker.max_ejection.count(), 60'000);
  const auto& route = r.config->routes[0];
  EXPECT_EQ(route.retries.attempts, 1u);
  EXPECT_TRUE(route.retries.on_timeout && route.retries.on_429);
  EXPECT_FALSE(route.retries.on_connect || route.retries.on_5xx);
  ASSERT_EQ(route.fallback.size(), 2u);
  EXPECT_EQ(route.fallback[0].provider, 1u);
  EXPECT_EQ(route.fallback[0].model, "");
  EXPECT_EQ(route.fallback[1].provider, 2u);
  EXPECT_EQ(route.fallback[1].model, "claude-sonnet-4-5");
}

TEST(ResilienceConfig, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string primary, route, expected;
  };
  const Case cases[] = {
      {"", "", "test.yaml:4: providers.primary.base_url: required (or `endpoints`)"},
      {"    base_url: http://a\n    endpoints: [http://b]\n", "", "providers.primary.base_url: give either base_url or endpoints"},
      {"    endpoints: []\n", "", "providers.primary.endpoints: must be a list of 1 to 64"},
      {"    endpoints: [http://a, \"http://a:80/\"]\n", "", "providers.primary.endpoints[1]: \"http://a:80\" is listed twice"},
      {"    endpoints: [{url: http://a, weight: 0}]\n", "", "providers.primary.endpoints[0].weight: \"0\" is not a whole number from 1 to 1000"},
      {"    endpoints: [ftp://a]\n", "", "providers.primary.endpoints[0]: \"ftp://a\" must start with http://"},
      {"    base_url: http://a\n    load_balancing: random\n", "", "providers.primary.load_balancing: \"random\" is not a policy"},
      {"    base_url: http://a\n    breaker: {base_ejection: 10s, max_ejection: 5s}\n", "", "providers.primary.breaker.max_ejection: must be at least base_ejection"},
      {"    base_url: http://a\n    breaker: {failure: 3}\n", "", "providers.primary.breaker.failure: unknown key"},
      {"    base_url: http://a\n", "    retries: {attempts: 11}\n", "routes[0].retries.attempts: \"11\" is not a whole number from 0 to 10"},
      {"    base_url: http://a\n", "    retries: {on: [503]}\n", "routes[0].retries.on[0]: \"503\" is not a retry condition"},
      {"    base_url: http://a\n", "    retries: {backoff_base: 2s, backoff_max: 1s}\n", "routes[0].retries.backoff_max: must be at least backoff_base"},
      {"    base_url: http://a\n", "    fallback: [{provider: nobody}]\n", "test.yaml:16: routes[0].fallback[0].provider: unknown provider \"nobody\""},
      {"    base_url: http://a\n", "    fallback: [{model: x}]\n", "routes[0].fallback[0].provider: required"},
      {"    base_url: http://a\n", "    translate: false\n    fallback: [{provider: claude}]\n", "routes[0].fallback[0].provider: provider \"claude\" speaks the anthropic API"},
  };
  for (const auto& c : cases) {
    auto r = parse(config_with(c.primary, c.route));
    EXPECT_FALSE(r.config) << c.expected;
    EXPECT_NE(all_errors(r).find(c.expected), std::string::npos) << "want: " << c.expected << "\ngot:\n" << all_errors(r);
  }
}

}  // namespace
}  // namespace tollway::config
