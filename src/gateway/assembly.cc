#include "gateway/assembly.h"

#include "auth/authz/filter.h"
#include "core/log.h"
#include "core/version.h"
#include "auth/caller/filter.h"
#include "auth/credentials/filter.h"
#include "auth/token_exchange/endpoints.h"
#include "auth/virtual_keys/keys_api.h"
#include "core/log.h"
#include "limits/admission/filter.h"
#include "limits/redis/redis_ledger.h"
#include "limits/redis/redis_url.h"
#include "providers/routing/filter.h"
#include "providers/translation/filter.h"
#include "providers/usage/filter.h"
#include "telemetry/filter.h"
#include "tls/client_context.h"

namespace tollway::gateway {
namespace {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> client_tls_context(const config::ProviderConfig& p, std::string& error) {
  std::optional<tls::ClientTlsError> failure;
  auto ctx = tls::make_client_context({p.ca_file, "", ""}, failure);
  if (!ctx) error = "provider \"" + p.name + "\": cannot load CA certificates: " + failure->message;
  return ctx;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Process-lifetime auth state (auth/gateway_auth.h): built with the first config that has `auth:` or
// `credentials:`, with its admin API and metrics registered once.
bool attach_auth(const config::GatewayConfig& config, Services& services, std::string& error) {
  if (!services.auth) {
    if (!config.auth.enabled && config.credentials.providers.empty()) return true;
    if (services.control == nullptr) {
      error = "auth needs the control thread's io_context";
      return false;
    }
    services.auth = std::make_unique<auth::GatewayAuth>(*services.control);
    auth::GatewayAuth* a = services.auth.get();
    services.metrics.push_back([a](std::string& out) { a->render_metrics(out); });
    services.admin_routes.push_back({"/admin/keys", [a](const AdminRequest& r) -> asio::awaitable<AdminResponse> {
      if (a->keys() == nullptr)
        co_return AdminResponse{404, "application/json", "{\"error\":{\"message\":\"auth is not configured\"}}\n", {}};
      auth::KeysApiRequest request{r.method, r.path, r.query, r.head ? r.head->find("authorization") : std::nullopt,
                                   r.body};
      auto answer = auth::handle_keys_api(*a->keys(), a->admin_token(), request, unix_now());
      co_return AdminResponse{answer.status, "application/json", std::move(answer.body), std::move(answer.headers)};
    }});
  }
  return services.auth->configure(config, error);
}

// Process-lifetime limits state: built with the first config that has a limits policy or a spend log, with the
// ledger (local, or strict on Redis with the local one as its fallback) and the spend log chosen then; budgets are
// rebuilt from the spend log before the first request. A reload that changes ledger, redis or spend_log is
// logged and takes effect at the next restart.
bool attach_limits(const config::GatewayConfig& config, Services& services, std::string& error) {
  const config::LimitsPolicy& policy = config.limits_policy;
  if (services.limits) {
    const bool strict = policy.ledger == config::LedgerMode::Strict;
    if (strict != services.limits->strict())
      log::warn("limits.ledger changed; it takes effect at the next restart",
                json::ObjectWriter().field("running", services.limits->strict() ? "strict" : "local"));
    return true;
  }
  if (!policy.enabled() && policy.spend_log.path.empty()) return true;
  auto runtime = std::make_unique<limits::LimitsRuntime>();
  if (policy.ledger == config::LedgerMode::Strict) {
    limits::redis::RedisLedgerOptions options;
    auto redis = limits::redis::parse_redis_url(policy.redis.url, error);
    if (!redis) {
      error = "limits.redis.url: " + error;
      return false;
    }
    options.redis = *redis;
    options.redis.connect_timeout_ms = static_cast<int>(policy.redis.timeout.count());
    options.redis.command_timeout_ms = static_cast<int>(policy.redis.timeout.count());
    options.key_prefix = policy.redis.key_prefix;
    options.local_fallback_max_s = static_cast<int>((policy.redis.local_fallback_max.count() + 999) / 1000);
    auto strict = std::make_unique<limits::redis::RedisLedger>(options, runtime->shared_local_ledger());
    limits::redis::RedisLedger* ledger = strict.get();
    services.metrics.push_back([ledger](std::string& out) { ledger->render_metrics(out); });
    services.worker_setup.push_back(
        [ledger](std::chrono::steady_clock::time_point deadline) { return ledger->connect(deadline); });
    runtime->set_strict_ledger(std::move(strict));
  }
  if (!policy.spend_log.path.empty()) {
    limits::SpendLogOptions options;
    options.path = policy.spend_log.path;
    options.flush_interval_ms = static_cast<int>(policy.spend_log.flush_interval.count());
    options.fsync_each_batch = policy.spend_log.fsync;
    try {
      runtime->set_spend_log(limits::SpendLog::open(options));
    } catch (const std::exception& e) {
      error = std::string("limits.spend_log: ") + e.what();
      return false;
    }
    if (!runtime->strict()) {
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      const uint64_t replayed =
          limits::restore_budgets(policy, *runtime->spend_log(), runtime->local_ledger(), now_ms);
      log::info("budgets restored from the spend log",
                json::ObjectWriter().field("path", policy.spend_log.path).field("records", replayed));
    }
  }
  limits::LimitsRuntime* r = runtime.get();
  services.metrics.push_back([r](std::string& out) { r->render_metrics(out); });
  services.limits = std::move(runtime);
  return true;
}

// Process-lifetime telemetry output (telemetry/telemetry_output.h): its threads run with the first telemetry
// config's log and exporter settings; a later change of those needs a restart.
telemetry::TelemetryOutput* attach_telemetry(const config::GatewayConfig& config, Services& services) {
  if (!config.telemetry.enabled) return nullptr;
  if (!services.telemetry) {
    services.telemetry = std::make_unique<telemetry::TelemetryOutput>(config.telemetry, kVersion);
    telemetry::TelemetryOutput* t = services.telemetry.get();
    services.metrics.push_back([t](std::string& out) { t->render_metrics(out); });
    return t;
  }
  const config::TelemetryConfig& running = services.telemetry->settings();
  const config::TelemetryConfig& wanted = config.telemetry;
  if (!(running.otlp == wanted.otlp) || !(running.access_log == wanted.access_log) ||
      !(running.decision_log == wanted.decision_log) || running.service_name != wanted.service_name)
    log::warn("telemetry.otlp, access_log, decision_log and service_name changes take effect at the next restart");
  return services.telemetry.get();
}

}  // namespace

std::shared_ptr<const pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                         uint64_t generation, Services& services,
                                                         std::string& error) {
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->config = config;
  snapshot->generation = generation;
  snapshot->loaded_at = std::chrono::system_clock::now();
  if (!services.upstream_health) {
    services.upstream_health = std::make_unique<providers::resilience::UpstreamHealthRegistry>();
    auto* registry = services.upstream_health.get();
    services.metrics.push_back([registry](std::string& out) { registry->render_metrics(out); });
  }
  auto balancers = services.upstream_health->balancers_for(*config);
  for (std::size_t i = 0; i < config->providers.size(); ++i) {
    const auto& p = config->providers[i];
    pipeline::ProviderUpstreams upstreams;
    std::shared_ptr<asio::ssl::context> tls_context;  // one per provider, shared by its https endpoints
    for (const auto& endpoint : p.endpoints) {
      http::UpstreamEndpoint e;
      e.host = endpoint.host;
      e.port = endpoint.port;
      e.tls = endpoint.tls;
      if (endpoint.tls) {
        if (!tls_context) tls_context = client_tls_context(p, error);
        if (!tls_context) return nullptr;
        e.tls_context = tls_context;
      }
      e.pool_key = std::string(endpoint.tls ? "https://" : "http://") + endpoint.host + ":" +
                   std::to_string(endpoint.port) + "#" + p.ca_file;
      upstreams.endpoints.push_back(std::move(e));
    }
    upstreams.balancer = std::move(balancers[i]);
    snapshot->upstreams.push_back(std::move(upstreams));
  }
  if (!attach_auth(*config, services, error)) return nullptr;
  auth::GatewayAuth* a = services.auth.get();
  // The gateway's filters, in phase order.
  if (config->auth.enabled) {
    snapshot->chain.add<auth::CallerAuthFilter>(
        config, auth::CallerAuthFilter::Dependencies{a->keys(), &a->signer(), &a->counters()}, a->issuers(*config));
    snapshot->chain.add<auth::PolicyAuthzFilter>();
  }
  if (!attach_limits(*config, services, error)) return nullptr;
  // Limits and budgets: admit (reserve) after the caller is known and allowed, before routing; settle at the end.
  if (services.limits) snapshot->chain.add<limits::LimitsFilter>(config, *services.limits);
  snapshot->chain.add<providers::ProviderRouteFilter>(config, snapshot->upstreams);
  // Translation: after the provider is chosen, before the credential (injected in the provider's format) and
  // before usage (whose response transformer, nearer the provider, reads the provider's own bytes first).
  snapshot->chain.add<providers::TranslationFilter>();
  snapshot->chain.add<auth::CredentialFilter>(config, a ? &a->provider_keys() : nullptr);
  snapshot->chain.add<providers::UsageFilter>(config);  // route (include_usage), response body, log
  // Last: its route phase sees the chosen upstream (CLIENT span, traceparent); its log sees everything.
  if (config->telemetry.enabled)
    snapshot->chain.add<telemetry::TelemetryFilter>(config, attach_telemetry(*config, services));
  if (config->auth.enabled && config->auth.token_exchange.enabled) {
    snapshot->local_endpoints.push_back({"/v1/token", 64 * 1024, [a](pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
      auth::answer_token_request(ctx, a->keys(), a->signer(), &a->counters(), unix_now());
      co_return;
    }});
    snapshot->local_endpoints.push_back({"/.well-known/jwks.json", 0, [a](pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
      auth::answer_jwks_request(ctx, a->signer());
      co_return;
    }});
  }
  return snapshot;
}

}  // namespace tollway::gateway
