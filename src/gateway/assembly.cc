#include "gateway/assembly.h"

#include "auth/authz/filter.h"
#include "auth/caller/filter.h"
#include "auth/credentials/filter.h"
#include "auth/token_exchange/endpoints.h"
#include "auth/virtual_keys/key_limits.h"
#include "auth/virtual_keys/keys_api.h"
#include "core/log.h"
#include "core/version.h"
#include "gateway/mcp_server.h"
#include "limits/admission/filter.h"
#include "limits/admission/key_report.h"
#include "limits/redis/redis_ledger.h"
#include "limits/redis/redis_url.h"
#include "limits/spend_query.h"
#include "pipeline/run.h"
#include "providers/catalogue/catalogue.h"
#include "providers/request_body/filter.h"
#include "providers/routing/filter.h"
#include "providers/translation/filter.h"
#include "providers/usage/filter.h"
#include "telemetry/filter.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

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

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

proxy::AdminResponse admin_answer(auth::KeysApiResponse answer) {
  return proxy::AdminResponse{answer.status, "application/json", std::move(answer.body), std::move(answer.headers)};
}

// A key's spend and budgets for GET /admin/keys/{id}, once limits are running.
std::string key_usage(Services& services, const auth::VirtualKey& k) {
  if (!services.limits || !services.config) return {};
  auth::KeyLimits limits = auth::key_limits_from_text(k.limits_json);
  limits.budget_anchor_s = k.budget_anchor;
  return limits::key_usage_json(*services.limits, services.config->limits_policy,
                                {k.id, k.tenant, k.agent_group, k.agent, k.created_at}, limits, unix_now_ms());
}

// GET /admin/spend?group_by=…&bucket=…&from=…&to=… (docs/operations.md): the spend log, grouped.
proxy::AdminResponse answer_spend_request(Services& services, const proxy::AdminRequest& r) {
  const std::string token = services.auth ? services.auth->admin_token() : std::string();
  if (auto refusal = auth::refuse_unless_admin(token, r.head ? r.head->find("authorization") : std::nullopt))
    return admin_answer(std::move(*refusal));
  if (r.path != "/admin/spend") return admin_answer(auth::admin_error(404, "Unknown admin path."));
  if (r.method != "GET") return admin_answer(auth::admin_error(405, "Use GET on /admin/spend."));
  limits::SpendQueryError why;
  const auto query = limits::parse_spend_query(r.query, unix_now_ms(), why);
  if (!query) return admin_answer(auth::admin_error(400, why.message, why.parameter));
  limits::SpendLog& log = *services.limits->spend_log();
  log.flush();  // the answer includes every charge settled before the call
  try {
    return proxy::AdminResponse{200, "application/json",
                                limits::spend_report_json(*query, limits::query_spend_file(log.path(), *query)), {}};
  } catch (const std::exception& e) {
    return admin_answer(auth::admin_error(500, e.what()));
  }
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
        {"/admin/keys", [a, &services](const proxy::AdminRequest& r) -> asio::awaitable<proxy::AdminResponse> {
           if (a->keys() == nullptr)
             co_return proxy::AdminResponse{
                 404, "application/json", "{\"error\":{\"message\":\"auth is not configured\"}}\n", {}};
           auth::KeysApiRequest request{r.method, r.path, r.query,
                                        r.head ? r.head->find("authorization") : std::nullopt, r.body};
           co_return admin_answer(auth::handle_keys_api(
               *a->keys(), a->admin_token(), request, unix_now(),
               [&services](const auth::VirtualKey& k) { return key_usage(services, k); }));
         }});
  }
  return services.auth->configure(config, error);
}

// Process-lifetime limits state: built with the first config that has a limits policy, a spend log or virtual
// keys (which may carry limits), with the ledger (local, strict on Redis with the local one as its fallback, or
// leased from the control plane)
// and the spend log chosen then; configured and key budgets are rebuilt from the spend log before the first
// request, and GET /admin/spend is served from it. A reload that changes ledger, redis or
// spend_log is logged and takes effect at the next restart.
bool attach_limits(const config::GatewayConfig& config, Services& services, std::string& error) {
  const config::LimitsPolicy& policy = config.limits_policy;
  if (services.limits) return true;  // ledger, redis and spend_log are restart-only (restart_only_changes)
  if (!policy.enabled() && policy.spend_log.path.empty() && !config.auth.enabled) return true;
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
  if (policy.ledger == config::LedgerMode::Leased) {
    if (!services.lease_source) {
      error = "limits.ledger: leased needs a control plane: leases come from its POST /v1/usage (run the gateway "
              "with --control)";
      return false;
    }
    auto leased = std::make_unique<limits::LeasedLedger>(runtime->shared_local_ledger(), services.lease_source);
    limits::LeasedLedger* ledger = leased.get();
    services.engine->metrics.push_back([ledger](std::string& out) { ledger->render_metrics(out); });
    ledger->start(*services.engine->control);
    runtime->set_leased_ledger(std::move(leased));
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
    if (!runtime->strict() && !runtime->leased()) {  // a shared ledger holds the fleet's spend itself
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      const uint64_t replayed =
          limits::restore_budgets(policy, *runtime->spend_log(), runtime->local_ledger(), now_ms);
      std::vector<std::pair<std::string, auth::KeyLimits>> keys;
      if (services.auth && services.auth->keys()) {
        for (const auto& k : services.auth->keys()->list()) {
          if (k.revoked_at != 0) continue;
          auth::KeyLimits limits = auth::key_limits_from_text(k.limits_json);
          limits.budget_anchor_s = k.budget_anchor;
          keys.emplace_back(k.id, limits);
        }
      }
      std::size_t key_budgets = 0;
      try {
        key_budgets = limits::restore_key_budgets(policy.spend_log.path, keys, runtime->local_ledger(), now_ms);
      } catch (const std::exception& e) {
        error = std::string("limits.spend_log: ") + e.what();
        return false;
      }
      log::info("budgets restored from the spend log", json::ObjectWriter()
                                                           .field("path", policy.spend_log.path)
                                                           .field("records", replayed)
                                                           .field("key_budgets", key_budgets));
    }
    services.engine->admin_routes.push_back(
        {"/admin/spend", [&services](const proxy::AdminRequest& r) -> asio::awaitable<proxy::AdminResponse> {
           co_return answer_spend_request(services, r);
         }});
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

// The usage filter's configuration: the prices, and its log line unless the access log says the same.
providers::UsageFilter::Config usage_filter_config(const config::GatewayConfig& config) {
  const bool access_log_on =
      config.telemetry.enabled && config.telemetry.access_log.kind != config::LogDestination::Off;
  return {config.pricing, config.usage.log_calls && !access_log_on};
}

// The telemetry filter's configuration: the `telemetry` section, and which providers are Azure OpenAI.
telemetry::TelemetryFilter::Config telemetry_filter_config(const config::GatewayConfig& config) {
  telemetry::TelemetryFilter::Config out{config.telemetry, {}};
  for (const auto& p : config.providers)
    if (p.azure) out.azure_providers.push_back(p.name);
  return out;
}

// The chain of requests to an MCP server (`mcp.servers`; config validation made auth required, so the limits
// runtime exists): the caller authenticated, its trace decided, its MCP calls decided and read by the guard,
// counted against the servers' tool limits, then the server's route.
void add_mcp_chain(GatewaySnapshot& snapshot, Services& services) {
  const std::shared_ptr<const config::GatewayConfig>& config = snapshot.config;
  auth::GatewayAuth* a = services.auth.get();
  if (!services.mcp) {
    services.mcp = std::make_unique<mcp::McpRuntime>("gateway");
    services.engine->metrics.push_back([m = services.mcp.get()](std::string& out) { m->render_metrics(out); });
  }
  snapshot.mcp_chain.add<auth::CallerAuthFilter>(
      auth::CallerAuthFilter::Config{config->auth.token_exchange, config->auth.clock_skew,
                                     config->auth.max_token_bytes, config->auth.spiffe},
      auth::CallerAuthFilter::Dependencies{a->keys(), &a->signer(), &a->counters()}, a->issuers(*config));
  if (config->telemetry.enabled)
    snapshot.mcp_chain.add<telemetry::TelemetryFilter>(telemetry_filter_config(*config),
                                                       attach_telemetry(*config, services));
  snapshot.mcp_chain.add<mcp::McpGuard>(std::make_shared<const GatewayMcpPolicy>(config), *services.mcp);
  bool limited = false;
  for (const auto& server : config->mcp.servers) limited = limited || !server.limits.empty();
  if (limited) snapshot.mcp_chain.add<McpToolLimits>(config, services.limits->local_ledger());
  snapshot.mcp_chain.add<McpServerRoute>(config, snapshot.mcp_endpoints);
}

}  // namespace

std::shared_ptr<GatewaySnapshot> prepare_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                  std::string& error) {
  auto snapshot = std::make_shared<GatewaySnapshot>();
  snapshot->config = config;
  snapshot->version = config->version;
  snapshot->source = config->source;
  pipeline::ServingSettings& serving = snapshot->serving;
  serving.listeners.push_back({"api", "gateway.listen", config->listen, nullptr});
  serving.admin = config->admin;
  for (auto [key, files, target] : {std::tuple{"gateway.tls", &config->tls, &serving.listeners.front().tls},
                                    std::tuple{"gateway.admin_tls", &config->admin_tls, &serving.admin_tls}}) {
    if (!*files) continue;
    std::optional<tls::ServerTlsError> tls_error;
    *target = tls::load_server_tls(**files, tls_error);
    if (!*target) {  // the files changed since the config was read
      error = std::string(key) + ": " + tls_error->message;
      return nullptr;
    }
  }
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
  for (const auto& server : config->mcp.servers) {
    http::UpstreamEndpoint e;
    e.host = server.endpoint.host;
    e.port = server.endpoint.port;
    e.tls = server.endpoint.tls;
    if (e.tls) {
      std::optional<tls::ClientTlsError> failure;
      e.tls_context = tls::make_client_context({server.ca_file, "", ""}, failure);
      if (!e.tls_context) {
        error = "mcp server \"" + server.name + "\": cannot load CA certificates: " + failure->message;
        return nullptr;
      }
    }
    e.pool_key = "mcp:" + server.endpoint.url + "#" + server.ca_file;
    snapshot->mcp_endpoints.push_back(std::move(e));
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

bool commit_snapshot(GatewaySnapshot& snapshot, Services& services, std::string& error) {
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
  // The gateway's filters. The driver runs each phase over the whole chain in this order; where two filters
  // take part in one phase, the earlier one's result is what the later one sees (the body is read before the
  // decisions on it; the model is chosen before translation rewrites the body, and translation before usage
  // asks for stream usage in it; usage's response transformer, nearer the provider, reads the provider's own
  // bytes before translation's rewrites them; telemetry logs last).
  if (config->auth.enabled)
    snapshot.chain.add<auth::CallerAuthFilter>(
        auth::CallerAuthFilter::Config{config->auth.token_exchange, config->auth.clock_skew,
                                       config->auth.max_token_bytes, config->auth.spiffe},
        auth::CallerAuthFilter::Dependencies{a->keys(), &a->signer(), &a->counters()}, a->issuers(*config));
  snapshot.chain.add<providers::RequestBodyFilter>();
  if (config->auth.enabled) snapshot.chain.add<auth::PolicyAuthzFilter>(a->authz_denials());
  if (!attach_limits(*config, services, error)) return false;
  if (services.limits) services.limits->set_budget_limits(config->limits_policy.budgets);
  if (services.limits) snapshot.chain.add<limits::LimitsFilter>(
        limits::LimitsFilter::Config{config->limits_policy, config->pricing, config->model_aliases}, *services.limits);
  snapshot.chain.add<providers::ProviderRouteFilter>(
      providers::ProviderRouteFilter::Config{config->providers, config->models, config->model_aliases},
      snapshot.upstreams);
  snapshot.chain.add<providers::TranslationFilter>();
  snapshot.chain.add<auth::CredentialFilter>(
      auth::CredentialFilter::Config{config->providers, config->passthrough_caller_keys, config->auth.enabled},
      a ? &a->provider_keys() : nullptr);
  snapshot.chain.add<providers::UsageFilter>(usage_filter_config(*config));
  if (config->telemetry.enabled)
    snapshot.chain.add<telemetry::TelemetryFilter>(telemetry_filter_config(*config),
                                                   attach_telemetry(*config, services));
  if (!config->mcp.servers.empty()) add_mcp_chain(snapshot, services);
  // GET /v1/models and /v1/models/{id}: from the configuration, per caller (GatewayRole::classify sends them here).
  snapshot.local_endpoints.push_back(
      {std::string(kCataloguePath), 0,
       [catalogue = std::make_shared<const providers::ModelCatalogue>(*config)](
           pipeline::RequestCtx& ctx) -> asio::awaitable<void> {
         if (co_await pipeline::authenticate_only(ctx)) catalogue->answer(ctx);
       }});
  services.config = config;
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
