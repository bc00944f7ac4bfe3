// Every optional key of every config section may be left out: for each section (and each mapping inside one), a
// config that sets only one of its keys loads, that key takes its value, and the keys left out keep the
// defaults docs/configuration.md documents.
#include <gtest/gtest.h>

#include <functional>

#include "config/loader.h"

namespace tollway::config {
namespace {

using namespace std::chrono_literals;

const std::string kProviders =
    "version: 1\nproviders:\n  openai:\n    api: openai\n    base_url: http://127.0.0.1:9000\n";
const std::string kRoutes = "routes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: openai\n";

struct OneKey {
  const char* section;  // the mapping the key belongs to
  std::string yaml;     // the whole document
  std::function<void(const GatewayConfig&)> check;
};

std::vector<OneKey> one_key_configs() {
  const std::string base = kProviders + kRoutes;
  return {
      {"gateway", base + "gateway:\n  workers: 3\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.workers, 3);
         EXPECT_EQ(c.listen.port, 8080);
         EXPECT_EQ(c.admin.port, 9901);
       }},
      {"limits", base + "limits:\n  max_body: 1MiB\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.limits.max_body, 1u << 20);
         EXPECT_EQ(c.limits.max_request_line, 8u << 10);
         EXPECT_EQ(c.limits.max_header_block, 64u << 10);
       }},
      {"limits.redis", base + "limits:\n  redis:\n    timeout: 20ms\n", nullptr},
      // `path` is the key a spend_log block cannot do without (docs: required in the block).
      {"limits.spend_log", base + "limits:\n  spend_log:\n    path: spend.db\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.limits_policy.spend_log.flush_interval, 100ms);
         EXPECT_TRUE(c.limits_policy.spend_log.fsync);
       }},
      {"limits.sessions", base + "limits:\n  sessions:\n    context_windows:\n      gpt-*: 128000\n",
       [](const GatewayConfig& c) { EXPECT_EQ(c.limits_policy.sessions.context_guard, ContextGuard::Off); }},
      // A fanout block needs its `secret` and a budget > 0 (`max_budget` defaults to `default_budget`, 0).
      {"limits.fanout",
       base + "limits:\n  fanout:\n    secret: 0123456789abcdef0123456789abcdef\n    max_budget: 1000\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.limits_policy.fanout.unit, LimitUnit::TotalTokens);
         EXPECT_EQ(c.limits_policy.fanout.ttl, 1h);
       }},
      {"limits.rules[]", base + "limits:\n  rules:\n    - name: r\n      limit: 5\n      window: 1m\n", nullptr},
      {"limits.budgets[]", base + "limits:\n  budgets:\n    - name: b\n      limit: 5\n", nullptr},
      {"timeouts", base + "timeouts:\n  idle: 5s\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.timeouts.idle, 5s);
         EXPECT_EQ(c.timeouts.header_read, 10s);
         EXPECT_EQ(c.timeouts.drain, 30s);
         EXPECT_EQ(c.timeouts.response_write, 60s);
       }},
      {"limits", base + "limits:\n  max_connections_per_peer: 32\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.limits.max_connections_per_peer, 32u);
         EXPECT_EQ(c.limits.max_connections, 10'000u);
         EXPECT_EQ(c.limits.max_requests_in_flight, 4'096u);
       }},
      {"providers.<name>.breaker",
       kProviders + "    breaker:\n      failures: 3\n" + kRoutes, nullptr},
      {"providers.<name>.load_balancing", kProviders + "    load_balancing: round_robin\n" + kRoutes, nullptr},
      {"models[]", base + "models:\n  - match: gpt-*\n    provider: openai\n", nullptr},
      {"routes[].retries",
       kProviders + "routes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: openai\n"
                    "    retries:\n      attempts: 1\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.routes.at(0).retries.attempts, 1u);
         EXPECT_EQ(c.routes.at(0).retries.backoff_base, 200ms);
       }},
      {"pricing", base + "pricing:\n  default:\n    input: 1\n    output: 2\n", nullptr},
      {"usage", base + "usage:\n  log: false\n",
       [](const GatewayConfig& c) {
         EXPECT_FALSE(c.usage.log_calls);
         EXPECT_EQ(c.usage.drain_time, 30s);
       }},
      {"auth", base + "auth:\n  clock_skew: 5s\n", nullptr},
      {"auth.token_exchange", base + "auth:\n  token_exchange:\n    ttl: 5m\n",
       [](const GatewayConfig& c) { EXPECT_TRUE(c.auth.token_exchange.enabled); }},
      {"credentials", base + "credentials:\n  file_poll: 1s\n", nullptr},
      // `address` is required in a vault block.
      {"credentials.vault", base + "credentials:\n  vault:\n    address: http://127.0.0.1:8200\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.credentials.vault.mount, "secret");
         EXPECT_EQ(c.credentials.vault.refresh, 60s);
       }},
      {"telemetry", base + "telemetry:\n  service_name: edge\n",
       [](const GatewayConfig& c) {
         EXPECT_TRUE(c.telemetry.enabled);
         EXPECT_EQ(c.telemetry.trust_incoming, TrustIncoming::Authenticated);
       }},
      {"telemetry.tracing", base + "telemetry:\n  tracing:\n    sample_ratio: 0.5\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.telemetry.sample_ratio, 0.5);
         EXPECT_EQ(c.telemetry.trust_incoming, TrustIncoming::Authenticated);
         EXPECT_TRUE(c.telemetry.baggage);
         EXPECT_FALSE(c.telemetry.capture_content);
       }},
      {"telemetry.tracing (trust_incoming mapping)",
       base + "telemetry:\n  tracing:\n    trust_incoming:\n      peers: [10.0.0.0/8]\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.telemetry.trust_incoming, TrustIncoming::Listed);
         EXPECT_FALSE(c.telemetry.trust_authenticated);
       }},
      {"telemetry.otlp", base + "telemetry:\n  otlp:\n    batch_size: 7\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.telemetry.otlp.batch_size, 7u);
         EXPECT_EQ(c.telemetry.otlp.queue_size, 8192u);
         EXPECT_EQ(c.telemetry.otlp.traces_interval, 2s);
       }},
      {"telemetry.metrics", base + "telemetry:\n  metrics:\n    max_models: 9\n",
       [](const GatewayConfig& c) {
         EXPECT_EQ(c.telemetry.max_models, 9u);
         EXPECT_EQ(c.telemetry.max_tenants, 100u);
       }},
  };
}

TEST(SectionDefaults, EverySectionLoadsWithOnlyOneKeySet) {
  for (const OneKey& k : one_key_configs()) {
    const LoadResult r = parse_gateway_config(k.yaml, "test.yaml", [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    });
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    EXPECT_TRUE(r.config) << k.section << ":\n" << k.yaml << errors;
    if (r.config && k.check) {
      SCOPED_TRACE(k.section);
      k.check(*r.config);
    }
  }
}

}  // namespace
}  // namespace tollway::config
