// The gateway's configuration as validated, typed values. A GatewayConfig only exists when every rule of
// docs/configuration.md holds; it is immutable once built and never read from disk again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "config/api.h"
#include "config/auth_config.h"
#include "config/limits_config.h"
#include "config/resilience_config.h"
#include "config/serving_config.h"
#include "core/cidr.h"
#include "mcp/guard/rules.h"
#include "tls/server_context.h"

namespace tollway::config {

// One base URL of a provider (`base_url`, or one entry of `endpoints`).
struct EndpointConfig {
  std::string url;          // as written, without a trailing '/' (metrics and logs name the endpoint by it)
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string path_prefix;  // the URL's path without a trailing '/', "" for none
  uint32_t weight = 1;      // 1..1000, for the load-balancing policies
};

// A provider's `azure` block (src/config/azure_section.cc): an OpenAI-API provider served by Azure OpenAI.
// Deployments form: the request goes to {base}/openai/deployments/{deployment}{path}?api-version=...;
// v1 form: to {base}/openai/v1{path}, the body's model replaced by its deployment. The key goes in `api-key`.
struct AzureConfig {
  enum class UrlForm { Deployments, V1 } url_form = UrlForm::Deployments;
  std::string api_version;  // required for Deployments; for V1 "" = no api-version parameter
  std::vector<std::pair<std::string, std::string>> deployments;  // model -> deployment; others use the model name
  // The deployment serving `model`.
  std::string_view deployment_for(std::string_view model) const {
    for (const auto& [m, d] : deployments)
      if (m == model) return d;
    return model;
  }
};

struct ProviderConfig {
  std::string name;
  Api api = Api::OpenAI;
  // tls, host, port and path_prefix repeat endpoints[0] (the only endpoint when `base_url` is used).
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string path_prefix;  // base_url path without a trailing '/', "" for none
  std::vector<EndpointConfig> endpoints;  // at least one
  LoadBalancing load_balancing = LoadBalancing::RoundRobin;
  BreakerConfig breaker;
  std::string api_key;      // "" = forward the caller's own credential headers
  std::string anthropic_version;
  std::string ca_file;      // "" = the system's CA store
  std::optional<AzureConfig> azure;  // api: openai only
};

struct ModelRule {
  std::string pattern;
  std::size_t provider = 0;  // index into GatewayConfig::providers
  int line = 0;              // config line of the rule, for validation warnings
  std::string key_path;      // "models[2]" or "models.rules[2]", for validation warnings
};

// `models.aliases`: a name callers may send as "model" that stands for an ordered group of models; the first
// serves, the others are its fallback chain (before the route's own `fallback`).
struct ModelAlias {
  std::string name;
  std::vector<std::string> models;  // 1..8 model names, each matched by a model rule
  int line = 0;
};

// One step of a route's `fallback` chain.
struct FallbackTarget {
  std::size_t provider = 0;  // index into GatewayConfig::providers
  std::string model;         // "" = keep the request's model
};

// What a route's request bodies are. Json: read as a JSON object whatever the Content-Type says, so every
// policy that depends on a body field (model, max_tokens, routing, token and cost limits) sees it. Raw:
// forwarded unread (file uploads, audio); no body-dependent policy can apply to such a route.
enum class RouteBody { Json, Raw };

struct RouteConfig {
  std::string path;
  bool is_prefix = false;
  Api api = Api::OpenAI;
  std::size_t provider = 0;  // default provider index
  uint64_t max_body = 0;
  RetryPolicy retries;
  std::vector<FallbackTarget> fallback;  // tried in order after the chosen provider failed
  bool translate = true;     // a model served by a provider of the other API is translated (false: 400)
  RouteBody body = RouteBody::Json;
  int line = 0;              // config line of the route, for messages about combinations with other sections
};

// Prices in micro-dollars (1e-6 USD) per 1M tokens: $2.50 / 1M tokens = 2'500'000.
struct Price {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cached_input = 0;  // OpenAI cached prompt tokens, Anthropic cache reads
  int64_t cache_write = 0;   // Anthropic cache creation (5-minute writes)
};

struct ModelPrice {
  std::string pattern;  // model name glob
  Price price;
  uint64_t max_output_tokens = 0;  // the model's own output limit; 0 = not known
};

// `pricing.unpriced`: what a request for a model without a price gets when a USD limit applies to it.
// Deny: refused (the default; money fails closed). Default: charged at `pricing.default`. Allow: admitted, and
// its USD counters are charged nothing.
enum class Unpriced { Deny, Default, Allow };

// The `pricing` section: inline model prices first, then the price file's, then the default price.
struct PricingConfig {
  std::vector<ModelPrice> models;
  Price default_price;
  std::string file;           // the price file that was loaded ("" = none)
  std::string table_version;  // that file's `version:` ("" = none)
  Unpriced unpriced = Unpriced::Deny;
};

// The `usage` section: how hard the gateway tries to learn a stream's usage after the client has gone.
struct UsageConfig {
  std::chrono::milliseconds drain_time{30'000};  // keep reading upstream this long after the client left
  uint64_t drain_bytes = 8 * 1024 * 1024;        // ... and at most this many more bytes
  bool log_calls = true;                          // one `usage` log line per proxied call
};

// The `telemetry` section (src/telemetry/config.cc): trace context, OTLP export, metric label caps,
// access and decision logs.
// Whose incoming trace context is continued: everyone, no one, authenticated callers, or (Listed) callers whose
// TCP peer address is in TelemetryConfig::trusted_peers, plus authenticated callers when trust_authenticated.
enum class TrustIncoming { Always, Never, Authenticated, Listed };

// Where a log stream goes: nowhere, the process's stdout or stderr, or a file opened in append mode.
struct LogDestination {
  enum Kind { Off, Stdout, Stderr, File } kind = Off;
  std::string path;  // for File
  bool operator==(const LogDestination&) const = default;
};

struct OtlpConfig {
  std::string endpoint;  // as written ("" = no export), e.g. http://127.0.0.1:4318 or https://collector:4318
  bool tls = false;      // https://: the collector's chain and name are verified
  std::string host;
  uint16_t port = 0;
  std::string ca_file;      // https only: PEM CAs for the collector's certificate; "" = the system trust store
  std::string client_cert;  // https only, with client_key: PEM certificate presented to an mTLS collector
  std::string client_key;
  std::string path_prefix;  // the signals' paths /v1/traces and /v1/metrics are appended to it
  bool gzip = false;
  std::chrono::milliseconds timeout{10'000};          // one HTTP request to the collector
  std::chrono::milliseconds traces_interval{2'000};   // a batch of spans is sent at least this often
  std::chrono::milliseconds metrics_interval{30'000};
  uint64_t queue_size = 8192;  // spans waiting for export; more are dropped and counted
  uint64_t batch_size = 512;   // spans per export request
  bool operator==(const OtlpConfig&) const = default;
};

struct TelemetryConfig {
  bool enabled = true;
  std::string service_name = "tollway";
  // tracing
  double sample_ratio = 1.0;
  TrustIncoming trust_incoming = TrustIncoming::Authenticated;
  std::vector<core::Cidr> trusted_peers;  // Listed: trust_incoming.peers
  bool trust_authenticated = false;       // Listed: trust_incoming.authenticated
  bool baggage = true;           // forward the trusted caller's baggage upstream
  bool capture_content = false;  // prompts and completions on spans (opt-in: they are sensitive)
  OtlpConfig otlp;
  // metric label caps: distinct values per label; later values are counted under "_overflow"
  uint64_t max_tenants = 100;
  uint64_t max_agents = 200;
  uint64_t max_sessions = 1000;
  uint64_t max_models = 100;
  LogDestination access_log;                                 // default off
  LogDestination decision_log{LogDestination::Stderr, {}};  // default stderr
};

// Who a gateway MCP rule is about. Each listed attribute must match one of its glob patterns; an attribute not
// listed matches any authenticated caller.
struct McpCallerMatch {
  std::vector<std::string> tenants, agent_groups, agents, keys;
};

struct GatewayMcpRule : mcp::McpRuleBase {
  McpCallerMatch from;
};

// One of a server's `limits`: calls of matching tools per `window`, counted in the gateway's process, one counter
// per the listed dimensions (none: one for every caller).
struct McpToolLimit {
  std::string name;
  std::vector<std::string> tools;  // glob patterns
  bool per_tool = false, per_tenant = false, per_agent = false, per_key = false;
  int64_t limit = 0;
  std::chrono::milliseconds window{60'000};
  int line = 0;
};

struct McpServerConfig {
  std::string name;           // in rules' messages, spans and metrics: 1-32 of a-z, 0-9, '-'
  std::string path;           // the gateway path it is served at (exact, no query, not under /v1)
  EndpointConfig endpoint;    // its URL: scheme, host, port, path
  std::string ca_file;        // https only: PEM CAs for its certificate; "" = the system store
  std::vector<std::pair<std::string, std::string>> headers;  // set on every request to it (its credential)
  uint64_t max_message_bytes = 4 << 20;
  std::vector<GatewayMcpRule> rules;
  std::vector<McpToolLimit> limits;
  int line = 0;
};

// The `mcp:` section (src/mcp/guard/config.cc): MCP servers exposed through the gateway.
struct GatewayMcpConfig {
  std::vector<McpServerConfig> servers;
};

struct GatewayConfig {
  ListenAddress listen{"127.0.0.1", 8080};
  ListenAddress admin{"127.0.0.1", 9901};
  std::optional<tls::ServerTlsFiles> tls;        // `gateway.tls`: the API listener serves HTTPS; none = plain
  std::optional<tls::ServerTlsFiles> admin_tls;  // `gateway.admin_tls`: the same for the admin listener
  int workers = 0;  // 0 = one per core
  Limits limits;               // HTTP size limits (`limits.max_*`)
  LimitsPolicy limits_policy;  // rate limits, budgets, ledger (the rest of `limits:`, src/limits/admission/config.cc)
  Timeouts timeouts;
  std::vector<ProviderConfig> providers;
  std::vector<ModelRule> models;
  std::vector<ModelAlias> model_aliases;  // `models.aliases`
  std::vector<RouteConfig> routes;
  PricingConfig pricing;  // src/providers/usage/config.cc
  UsageConfig usage;      // src/providers/usage/config.cc
  AuthConfig auth;                // caller authentication (src/auth/config.cc)
  CredentialsConfig credentials;  // provider credential sources (src/auth/credentials/config.cc)
  TelemetryConfig telemetry;      // src/telemetry/config.cc
  GatewayMcpConfig mcp;           // src/mcp/guard/config.cc
  // `credentials.passthrough_caller_keys`: whether a caller's own provider key may reach a provider that has no
  // key configured (default: yes without `auth:`, no with it).
  bool passthrough_caller_keys = true;
  std::string source;   // file it was loaded from
  std::string version;  // of the resolved config: config/config_version.h
};

// The alias named `name`, or null.
const ModelAlias* find_model_alias(const std::vector<ModelAlias>& aliases, std::string_view name);
inline const ModelAlias* find_model_alias(const GatewayConfig& config, std::string_view name) {
  return find_model_alias(config.model_aliases, name);
}
// The provider the model rules give `model` (first matching rule), or nullopt.
std::optional<std::size_t> provider_of_model(const std::vector<ModelRule>& rules, std::string_view model);
inline std::optional<std::size_t> provider_of_model(const GatewayConfig& config, std::string_view model) {
  return provider_of_model(config.models, model);
}

}  // namespace tollway::config
