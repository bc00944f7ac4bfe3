#include "gateway/assembly.h"

#include "auth/authz/filter.h"
#include "auth/caller/filter.h"
#include "auth/credentials/filter.h"
#include "auth/token_exchange/endpoints.h"
#include "auth/virtual_keys/keys_api.h"
#include "core/log.h"
#include "core/version.h"
#include "limits/admission/filter.h"
#include "limits/redis/redis_ledger.h"
#include "limits/redis/redis_url.h"
#include "pipeline/run.h"
#include "providers/catalogue/catalogue.h"
#include "providers/request_body/filter.h"
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
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Process-lifetime auth state (auth/gateway_auth.h): built with the first config that has `auth:` or
// `credentials:`, with its admin API and metrics registered once.
bool attach_auth(const config::GatewayConfig& config, Services& services, std::string& error) {
  if (!services.auth) {
    if (!config.auth.enabled && config.credentials.providers.empty()) return true;
    services.auth = std::make_unique<auth::GatewayAuth>(*services.engine->control);
    auth::GatewayAuth* a = services.auth.get();
    services.engine->metrics.push_back([a](std::string& out) { a->render_metrics(out); });
    services.engine->admin_routes.push_back(
        {"/admin/keys", [a](const proxy::AdminRequest& r) -> asio::awaitable<proxy::AdminResponse> {
           if (a->keys() == nullptr)
             co_return proxy::AdminResponse{
                 404, "application/json", "{\"error\":{\"message\":\"auth is not configured\"}}\n", {}};
           auth::KeysApiRequest request{r.method, r.path, r.query,
                                        r.head ? r.head->find("authorization") : std::nullopt, r.body};
           auto answer = auth::handle_keys_api(*a->keys(), a->admin_token(), request, unix_now());
           co_return proxy::AdminResponse{answer.status, "application/json", std::move(answer.body),
                                          std::move(answer.headers)};
         }});
  }
  return services.auth->configure(config, error);
}

// Process-lifetime limits state: built with the first config that has a limits policy or a spend log, with
// the ledger (local, or strict on Redis with the local one as its fallback) and the spend log chosen then;
// budgets are rebuilt from the spend log before the first request. A reload that changes ledger, redis or
// spend_log is logged and takes effect at the next restart.
bool attach_limits(const config::GatewayConfig& config, Services& services, std::string& error) {
  const config::LimitsPolicy& policy = config.limits_policy;
  if (services.limits) return true;  // ledger, redis and spend_log are restart-only (restart_only_changes)
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
    services.engine->metrics.push_back([ledger](std::string& out) { ledger->render_metrics(out); });
    services.engine->worker_setup.push_back(
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
  services.engine->metrics.push_back([r](std::string& out) { r->render_metrics(out); });
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
    services.engine->metrics.push_back([t](std::string& out) { t->render_metrics(out); });
    return t;
  }
  return services.telemetry.get();  // otlp, logs and service_name are restart-only (restart_only_changes)
}

}  // namespace

std::shared_ptr<pipeline::Snapshot> prepare_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                     std::string& error) {
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->config = config;
  snapshot->version = config->version;
  snapshot->source = config->source;
  pipeline::ServingSettings& serving = snapshot->serving;
  serving.listen = config->listen;
  serving.admin = config->admin;
  serving.workers = config->workers;
  serving.limits = config->limits;
  serving.timeouts = config->timeouts;
  serving.drain_time = config->usage.drain_time;
  serving.drain_bytes = config->usage.drain_bytes;
  for (const auto& p : config->providers) {
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
    snapshot->upstreams.push_back(std::move(upstreams));
  }
  if (config->limits_policy.ledger == config::LedgerMode::Strict) {
    std::string why;
    if (!limits::redis::parse_redis_url(config->limits_policy.redis.url, why)) {
      error = "limits.redis.url: " + why;
      return nullptr;
    }
  }
  return snapshot;
}

std::vector<std::string> restart_only_changes(const config::GatewayConfig& running,
                                              const config::GatewayConfig& next) {
  std::vector<std::string> changed;
  const auto refuse = [&](const char* key) {
    changed.push_back(std::string(key) + ": changes need a restart");
  };
  const auto& rl = running.limits_policy;
  const auto& nl = next.limits_policy;
  if (rl.ledger != nl.ledger) refuse("limits.ledger");
  if (rl.redis.url != nl.redis.url || rl.redis.key_prefix != nl.redis.key_prefix ||
      rl.redis.timeout != nl.redis.timeout || rl.redis.local_fallback_max != nl.redis.local_fallback_max)
    refuse("limits.redis");
  if (rl.spend_log.path != nl.spend_log.path || rl.spend_log.flush_interval != nl.spend_log.flush_interval ||
      rl.spend_log.fsync != nl.spend_log.fsync)
    refuse("limits.spend_log");
  const auto& rt = running.telemetry;
  const auto& nt = next.telemetry;
  if (rt.enabled && nt.enabled) {  // telemetry's threads start with the first config that enables it
    if (!(rt.otlp == nt.otlp)) refuse("telemetry.otlp");
    if (!(rt.access_log == nt.access_log)) refuse("telemetry.access_log");
    if (!(rt.decision_log == nt.decision_log)) refuse("telemetry.decision_log");
    if (rt.service_name != nt.service_name) refuse("telemetry.service_name");
  }
  if (running.auth.enabled && next.auth.enabled &&
      running.auth.virtual_keys_store != next.auth.virtual_keys_store)
    refuse("auth.virtual_keys.store");
  return changed;
}

bool commit_snapshot(pipeline::Snapshot& snapshot, Services& services, std::string& error) {
  const std::shared_ptr<const config::GatewayConfig>& config = snapshot.config;
  if (!services.upstream_health) {
    services.upstream_health = std::make_unique<providers::resilience::UpstreamHealthRegistry>();
    auto* registry = services.upstream_health.get();
    services.engine->metrics.push_back([registry](std::string& out) { registry->render_metrics(out); });
  }
  auto balancers = services.upstream_health->balancers_for(*config);
  for (std::size_t i = 0; i < snapshot.upstreams.size(); ++i)
    snapshot.upstreams[i].balancer = std::move(balancers[i]);
  if (!attach_auth(*config, services, error)) return false;
  auth::GatewayAuth* a = services.auth.get();
  // The gateway's filters, in phase order.
  if (config->auth.enabled)
    snapshot.chain.add<auth::CallerAuthFilter>(
        config, auth::CallerAuthFilter::Dependencies{a->keys(), &a->signer(), &a->counters()},
        a->issuers(*config));
  // The body, read once as JSON on `body: json` routes, before any decision that depends on it.
  snapshot.chain.add<providers::RequestBodyFilter>();
  if (config->auth.enabled) snapshot.chain.add<auth::PolicyAuthzFilter>();
  if (!attach_limits(*config, services, error)) return false;
  // Limits and budgets: admit (reserve) after the caller is known and allowed, before routing; settle at the
  // end.
  if (services.limits) snapshot.chain.add<limits::LimitsFilter>(config, *services.limits);
  snapshot.chain.add<providers::ProviderRouteFilter>(config, snapshot.upstreams);
  // Translation: after the provider is chosen, before the credential (injected in the provider's format) and
  // before usage (whose response transformer, nearer the provider, reads the provider's own bytes first).
  snapshot.chain.add<providers::TranslationFilter>();
  snapshot.chain.add<auth::CredentialFilter>(config, a ? &a->provider_keys() : nullptr);
  snapshot.chain.add<providers::UsageFilter>(config);  // route (include_usage), response body, log
  // Last: its route phase sees the chosen upstream (CLIENT span, traceparent); its log sees everything.
  if (config->telemetry.enabled)
    snapshot.chain.add<telemetry::TelemetryFilter>(config, attach_telemetry(*config, services));
  // GET /v1/models and /v1/models/{id}: from the configuration, per caller (GatewayRole::classify sends them here).
  snapshot.local_endpoints.push_back(
      {std::string(kCataloguePath), 0,
       [catalogue = std::make_shared<const providers::ModelCatalogue>(*config)](
           pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
         if (co_await pipeline::authenticate_only(ctx)) catalogue->answer(ctx);
       }});
  if (config->auth.enabled && config->auth.token_exchange.enabled) {
    snapshot.local_endpoints.push_back(
        {"/v1/token", 64 * 1024, [a](pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
           auth::answer_token_request(ctx, a->keys(), a->signer(), &a->counters(), unix_now());
           co_return;
         }});
    snapshot.local_endpoints.push_back(
        {"/.well-known/jwks.json", 0, [a](pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
           auth::answer_jwks_request(ctx, a->signer());
           co_return;
         }});
  }
  return true;
}

}  // namespace tollway::gateway
