// RequestCtx: the state of one request as it walks the phases. Each field is written by one phase and read by
// later ones (noted per field); it is a plain struct, never a string-keyed bag, and owns nothing shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller_policy.h"
#include "config/api.h"
#include "config/resilience_config.h"
#include "core/cidr.h"
#include "http/message.h"
#include "http/upstream_pool.h"
#include "pipeline/feature_state.h"
#include "providers/request_fields.h"
#include "providers/resilience/attempt_plan.h"
#include "providers/resilience/load_balancer.h"
#include "tls/server_context.h"

namespace tollway::auth {
struct ProviderKey;
}
namespace tollway::telemetry {
class RequestMetrics;
}

namespace tollway::pipeline {

struct Snapshot;
class Chain;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A response the gateway writes itself (an error, a denial, an admin answer).
struct Reply {
  int status = 0;  // 0 = no reply yet
  std::string content_type;  // "" = application/json (no allocation per request for the usual case)
  std::string body;
  HeaderList headers;
};

// Where and how the request goes upstream; written by select_upstream (where) and shape_upstream (how).
// A CONNECT tunnel's destination, as the request's authority-form target names it.
struct TunnelTarget {
  std::string host;  // a name or an IP literal (an IPv6 literal without brackets)
  uint16_t port = 0;
};

struct UpstreamRequest {
  const http::UpstreamEndpoint* endpoint = nullptr;  // owned by the snapshot
  // Set by select_upstream instead of `endpoint` for a CONNECT the chain allows: the driver opens a tunnel
  // (no shaping, no retries) and the connection carries nothing else after it.
  std::optional<TunnelTarget> tunnel;
  // The provider's load balancer (null until a provider is chosen) and this attempt's hold on the endpoint
  // (in flight until the driver reports how the attempt ended).
  providers::resilience::ProviderBalancer* balancer = nullptr;
  providers::resilience::EndpointLease lease;
  std::string provider;                              // provider name, for logs and metrics
  config::Api api = config::Api::OpenAI;             // the API the provider speaks
  std::string target;                                // path and query sent upstream
  // The model the body sent upstream names: ctx.model, or for Azure OpenAI's v1 URLs its deployment. A view
  // into ctx.model or the snapshot's config, valid for this attempt.
  std::string_view body_model;
  std::string host_header;
  HeaderList set_headers;                  // added (replacing any header of the same name)
  std::vector<std::string> drop_headers;   // removed from the caller's headers (lowercase names)
};

// How a response already under way to the client (its head sent) ended early; None when it ended normally.
enum class ResponseCut : uint8_t {
  None,
  // The client went away first (what happened while draining for usage does not count); also set, with no
  // status, when it left while the provider's head was awaited.
  ClientGone,
  Timeout,         // the exchange outlived timeouts.upstream_total
  UpstreamBroken,  // the provider closed, reset or malformed the body
};

struct Outcome {
  int status = 0;                 // status sent to the client (0 = nothing sent)
  ResponseCut cut = ResponseCut::None;
  uint64_t response_bytes = 0;    // body bytes sent to the client
  bool upstream_contacted = false;
  std::chrono::steady_clock::duration upstream_first_byte{};  // request sent -> response head
  std::chrono::steady_clock::duration upstream_total{};       // connect -> last byte
  std::string error;              // why the gateway answered itself or cut the exchange
  std::string error_code;         // stable reason, e.g. "unknown_route" (the OpenAI error `code`)
  // Set only when the attempt failed before any byte reached the client (the driver may try again); a held
  // 429/5xx response is then in ctx.reply, to be sent if no other attempt follows.
  providers::resilience::AttemptFailure failure = providers::resilience::AttemptFailure::None;
  std::optional<std::chrono::milliseconds> retry_after;  // the provider's retry-after / retry-after-ms
  uint32_t attempts = 1;          // upstream attempts made (retries and fallbacks included)
  // A tunnel's bytes, each way (the relay counts them as they are written).
  uint64_t tunneled_from_client = 0;
  uint64_t tunneled_to_client = 0;
};

// The upstream candidates a request may try (a provider, then its fallbacks) and how each is retried; by default
// one try without retries.
struct UpstreamPlan {
  const config::RetryPolicy* retries = nullptr;  // null: no retries; else a view into the snapshot
  std::size_t candidates = 1;
};

// Which attempt the select, shape and forward phases are working on; written by the driver before each
// select_upstream.
struct Attempt {
  // 0: the provider the model rules / route chose (an alias: its first model); with an alias of k models,
  // 1..k-1 are its other models; then n: the route's fallback[n-k] (k = 1 without an alias)
  std::size_t candidate = 0;
  const providers::resilience::EndpointHealth* avoid = nullptr;  // the endpoint the previous attempt failed on
  const providers::resilience::AttemptPlan* plan = nullptr;      // forward asks it whether to hold a 429/5xx
};

// Who is calling; written by the authenticate phase ("" when unknown).
struct Caller {
  bool authenticated = false;
  std::string tenant;
  std::string agent_group;
  std::string agent;
  std::string key_id;   // virtual key id or JWT subject; never the secret itself
  std::string method;   // "virtual_key" or "jwt"
  std::string issuer;   // JWT "iss" ("" for virtual keys)
  std::shared_ptr<const auth::CallerPolicy> policy;  // null: no restriction (authorize phase reads it)
};

// What the call consumed, as the provider reported it; written while the response is observed.
struct Usage {
  bool known = false;       // the provider reported usage (JSON body or stream)
  bool estimated = false;   // not reported (stream cut, client gone): an estimate was charged
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_input_tokens = 0;          // OpenAI cached_tokens, Anthropic cache_read_input_tokens
  uint64_t cache_creation_input_tokens = 0;  // Anthropic
  uint64_t reasoning_tokens = 0;             // OpenAI, part of output_tokens
  int64_t cost_micro_usd = 0;
  bool priced_at_default = false;            // the model matched no price entry: pricing.default was used
  std::string error_event;                   // a provider error event arrived mid-stream (its type), "" if none
  // input_tokens is every prompt token: for Anthropic input + cache read + cache creation, for OpenAI
  // prompt_tokens (cached included). Written by providers::UsageFilter when the response body ends.
};

// What select_upstream took from ctx.body_fields for this attempt; for limits and logs.
struct RequestFacts {
  std::optional<uint64_t> max_output_tokens;  // max_completion_tokens / max_tokens / max_output_tokens
  bool stream = false;
  std::size_t tool_count = 0;
  std::string user;                 // OpenAI `user` or Anthropic `metadata.user_id`
  bool include_usage_added = false;  // the gateway asked for stream usage the caller did not ask for
};

// Why the gateway denied a request itself (authentication, authorization, limits, budgets): written by the
// filter that denied it, read by the decision log. Shadow rules that would have denied are listed too.
struct Decision {
  bool denied = false;
  std::string filter;        // the filter's name(), e.g. "limits"
  std::string rule;          // the rule that decided (a limit's name, "revoked_key", ...)
  std::string reason;        // what a person reads
  std::vector<std::string> shadow_rules;  // shadow-mode rules that would have denied (the request went on)
};

// One upstream attempt as it ended (retries and fallbacks make several); appended by the driver after each
// forward phase when ctx.record_attempts, for the CLIENT spans and the access log.
struct AttemptRecord {
  uint32_t number = 1;     // ctx.outcome.attempts of that attempt (1 for the first)
  std::string provider;
  config::Api api = config::Api::OpenAI;  // the API the provider speaks
  std::string endpoint;    // the endpoint's URL as configured
  std::string target;      // the path and query sent upstream (ctx.upstream.target of that attempt)
  std::string model;
  std::chrono::steady_clock::time_point started, ended;
  int status = 0;          // the provider's status (0: no response)
  providers::resilience::AttemptFailure failure = providers::resilience::AttemptFailure::None;
};

struct RequestCtx {
  // Driver, before any phase.
  std::shared_ptr<const Snapshot> snapshot;
  // The filters this request runs: one of the snapshot's chains, as the role's classify chose; null: the
  // snapshot's main chain.
  const Chain* chain = nullptr;
  const http::RequestHead* head = nullptr;  // views into the connection buffer, valid for the whole request
  std::string body;                         // the complete request body
  std::string request_id;
  // The role's classify, from the path: the route's name in metrics and logs (a view into the snapshot, "" when
  // none) and the caller's API format, for errors.
  std::string_view route_name;
  config::Api api = config::Api::OpenAI;
  std::optional<core::IpAddress> peer;         // the TCP peer's address (IPv4-mapped IPv6 as IPv4); none: unknown
  std::size_t listener = 0;                    // which of snapshot->serving.listeners accepted the connection
  // The verified client certificate of a TLS listener's connection (owned by the connection); null when the
  // listener is plain or the client sent no certificate.
  const tls::PeerIdentity* peer_identity = nullptr;
  std::chrono::steady_clock::time_point started;
  // This worker's metrics, for filters that record per-request series (only this worker's thread writes them).
  telemetry::RequestMetrics* metrics = nullptr;
  // Authenticate phase.
  Caller caller;
  // Authorize phase (providers::RequestBodyFilter): the JSON body's fields, read once for every later phase;
  // none on a `body: raw` route or for a request without a body. A filter that edits the body in shape_upstream
  // updates them with it (providers::set_model, set_include_usage), until providers::TranslationFilter replaces
  // the body with one in the provider's API (providers::translating); the driver restores both for a new attempt.
  std::optional<providers::RequestFields> body_fields;
  // Authorize phase (the filter that chooses providers, providers::ProviderRouteFilter): how many candidates the
  // request may try and how each is retried. The driver plans the attempts by it.
  UpstreamPlan upstream_plan;
  // The driver, before each select_upstream (retries and fallbacks select and shape again).
  Attempt attempt;
  // select_upstream and shape_upstream.
  std::string model;  // the body's "model", "" when none
  RequestFacts request;
  UpstreamRequest upstream;
  std::shared_ptr<const auth::ProviderKey> provider_key;  // the credential injected (CredentialFilter), if any
  // The driver, after the admit phase: filters [0, settling_filters) of the chain passed admit() and settle.
  std::size_t settling_filters = 0;
  // Any phase: headers added to the response the client gets, proxied or answered by the gateway
  // (e.g. x-ratelimit-*); never sent upstream.
  HeaderList response_headers;
  // Any phase that answers the request itself.
  Reply reply;
  Decision decision;
  // Response observers (on_response_head / on_response_bytes) and settle.
  Usage usage;
  // Forward phase and the driver.
  Outcome outcome;
  std::vector<AttemptRecord> attempts;
  // Set by a filter that reads ctx.attempts (telemetry): the driver then records each attempt.
  bool record_attempts = false;
  // Each feature's own state (a reservation, a trace, a hop, an RPC's calls), declared in the feature's folder.
  FeatureStates features;
};

}  // namespace tollway::pipeline
