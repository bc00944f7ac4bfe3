#include "telemetry/filter.h"

#include <algorithm>
#include <array>

#include "limits/admission/reservation.h"
#include "mcp/rpc_calls.h"
#include "pipeline/snapshot.h"
#include "providers/routing/route_choice.h"
#include "telemetry/baggage.h"
#include "telemetry/error_type.h"
#include "telemetry/genai_semconv.h"
#include "telemetry/request_metrics.h"
#include "telemetry/rpc_record.h"

namespace tollway::telemetry {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxHeaderLines = 8;           // more lines of one trace header: treated as malformed
constexpr std::size_t kMaxContentBytes = 64 * 1024;  // captured prompt / completion per request

// The values of every header line called `name` (at most kMaxHeaderLines; `overflow` when there were more).
struct HeaderValues {
  std::array<std::string_view, kMaxHeaderLines> values;
  std::size_t count = 0;
  bool overflow = false;
  std::span<const std::string_view> span() const { return {values.data(), count}; }
};

HeaderValues header_values(const http::RequestHead& head, std::string_view name) {
  HeaderValues out;
  for (const auto& h : head.headers) {
    if (!http::iequals(h.name, name)) continue;
    if (out.count == kMaxHeaderLines)
      out.overflow = true;
    else
      out.values[out.count++] = h.value;
  }
  return out;
}

bool trusted(const config::TelemetryConfig& t, const pipeline::RequestCtx& ctx) {
  switch (t.trust_incoming) {
    case config::TrustIncoming::Always:
      return true;
    case config::TrustIncoming::Never:
      return false;
    case config::TrustIncoming::Authenticated:
      return ctx.caller.authenticated;
    case config::TrustIncoming::Listed:
      return (t.trust_authenticated && ctx.caller.authenticated) ||
             (ctx.peer && core::any_contains(t.trusted_peers, *ctx.peer));
  }
  return false;
}

uint64_t unix_nano_now() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The caller's session: the one the limits filter charged, else the x-session-id header, else the OpenAI
// `user` / Anthropic `metadata.user_id`. A value that is not 1..128 visible ASCII characters becomes
// "_invalid" (it becomes a label value and a log field).
std::string session_of(const pipeline::RequestCtx& ctx) {
  if (const auto* r = ctx.features.find<limits::Reservation>(); r != nullptr && !r->session.empty()) return r->session;
  const auto header = ctx.head->find("x-session-id");
  const std::string_view value = header ? *header : std::string_view(ctx.request.user);
  if (value.empty()) return {};
  if (value.size() > 128) return "_invalid";
  for (const char c : value)
    if (c < 0x21 || c > 0x7e) return "_invalid";
  return std::string(value);
}

}  // namespace

// gen_ai.provider.name of a configured provider: Azure OpenAI and Gemini have their own names.
const char* TelemetryFilter::provider_name_of(std::string_view provider, config::Api api) const {
  const auto& azure = config_.azure_providers;
  return config::genai_provider_name(api, std::find(azure.begin(), azure.end(), provider) != azure.end());
}

std::string_view genai_operation_of(std::string_view path) {
  if (path == "/v1/chat/completions" || path == "/v1/messages" || path == "/v1/responses")
    return genai::operation::kChat;
  if (path == "/v1/completions") return genai::operation::kTextCompletion;
  if (path == "/v1/embeddings") return genai::operation::kEmbeddings;
  return {};
}

TelemetryFilter::TelemetryFilter(Config config, TelemetryOutput* output)
    : config_(std::move(config)), output_(output), sampler_(config_.telemetry.sample_ratio) {
  const auto& t = config_.telemetry;
  caps_ = LabelCaps{t.max_tenants, t.max_agents, t.max_sessions, t.max_models};
}

TraceInfo TelemetryFilter::decide_trace(const pipeline::RequestCtx& ctx) const {
  TraceInfo info;
  info.established = true;
  const HeaderValues parents = header_values(*ctx.head, "traceparent");
  const HeaderValues states = header_values(*ctx.head, "tracestate");
  ExtractedTraceContext in;
  if (parents.overflow) {
    in.traceparent = IncomingTraceparent::Duplicated;
  } else {
    static constexpr std::array<std::string_view, 0> kNone{};
    in = extract_trace_context(parents.span(),
                               states.overflow ? std::span<const std::string_view>(kNone) : states.span());
  }
  info.incoming = in.traceparent;
  const bool trust = trusted(config_.telemetry, ctx);
  if (in.parent && trust) {
    const bool sampled = sampler_.should_sample(in.parent->sampled(), in.parent->trace_id);
    info.server = child_context(*in.parent, sampled);
    info.parent = in.parent->span_id;
  } else {
    info.restarted = in.parent.has_value();
    info.server = new_root_context(false);
    if (sampler_.should_sample(std::nullopt, info.server.trace_id)) info.server.flags |= kTraceFlagSampled;
  }
  return info;
}

asio::awaitable<pipeline::Verdict> TelemetryFilter::authorize(pipeline::RequestCtx& ctx) {
  ctx.features.get<TraceInfo>() = decide_trace(ctx);
  ctx.record_attempts = true;  // each attempt's CLIENT span
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> TelemetryFilter::shape_upstream(pipeline::RequestCtx& ctx) {
  if (ctx.upstream.endpoint == nullptr) co_return pipeline::Verdict::Continue;
  TraceInfo& t = ctx.features.get<TraceInfo>();
  if (!t.established) {
    t = decide_trace(ctx);
    ctx.record_attempts = true;
  }
  SpanContext client = child_context(t.server);
  t.attempt_spans.resize(ctx.outcome.attempts);  // this attempt's number, 1 for the first
  t.attempt_spans.back() = client.span_id;
  auto& set = ctx.upstream.set_headers;
  auto& drop = ctx.upstream.drop_headers;
  set.emplace_back("traceparent", format_traceparent(client));
  char server_span[SpanId::kHexLength];
  t.server.span_id.write_hex(server_span);
  if (auto state =
          t.server.trace_state.serialize_with_entry_first("tollway", {server_span, sizeof server_span})) {
    set.emplace_back("tracestate", std::move(*state));
  } else {
    drop.emplace_back("tracestate");
  }
  // A trusted caller's baggage is forwarded whether or not it continues a trace (as W3C propagators and Envoy
  // do), re-encoded within the spec's limits; an untrusted caller's is dropped.
  const bool keep_baggage = config_.telemetry.baggage && trusted(config_.telemetry, ctx);
  const HeaderValues baggage = header_values(*ctx.head, "baggage");
  if (baggage.count > 0) {
    std::string value;
    if (keep_baggage && !baggage.overflow) value = serialize_baggage(parse_baggage(baggage.span()).entries);
    if (value.empty())
      drop.emplace_back("baggage");
    else
      set.emplace_back("baggage", std::move(value));
  }
  co_return pipeline::Verdict::Continue;
}

void TelemetryFilter::on_response_bytes(pipeline::RequestCtx& ctx, std::string_view bytes, bool) {
  if (bytes.empty()) return;
  TraceInfo& t = ctx.features.get<TraceInfo>();
  if (t.first_output == Clock::time_point{}) t.first_output = Clock::now();
  if (config_.telemetry.capture_content && t.output_content.size() < kMaxContentBytes)
    t.output_content.append(bytes.substr(0, kMaxContentBytes - t.output_content.size()));
}

void TelemetryFilter::log(const pipeline::RequestCtx& ctx) {
  const TraceInfo* established = ctx.features.find<TraceInfo>();
  if (established != nullptr && !established->established) established = nullptr;
  const TraceInfo decided = established != nullptr ? TraceInfo{} : decide_trace(ctx);
  const TraceInfo& t = established != nullptr ? *established : decided;
  const bool denied = ctx.decision.denied;
  const bool sampled = t.server.sampled();
  const auto now = Clock::now();
  const uint64_t now_unix = unix_nano_now();
  auto to_unix = [&](Clock::time_point at) {
    return now_unix -
           static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - at).count());
  };
  RequestRecord r;
  r.request_id = ctx.request_id;
  r.trace_id = t.server.trace_id;
  r.span_id = t.server.span_id;
  r.parent_span_id = t.parent;
  r.trace_flags = t.server.flags & kTraceFlagSampled;
  r.sampled = sampled;
  r.incoming = t.incoming;
  r.restarted = t.restarted;
  r.method = ctx.head->method;
  if (const config::RouteConfig* route = providers::route_of(ctx)) {
    r.route = route->path;
    r.operation = route->api == config::Api::Gemini ? genai::operation::kGenerateContent
                                                     : genai_operation_of(route->path);
  }
  r.caller_api = config::api_name(ctx.api);
  r.tenant = ctx.caller.tenant;
  r.agent = ctx.caller.agent;
  r.key_id = ctx.caller.key_id;
  r.session = session_of(ctx);
  if (ctx.peer_identity) {
    r.peer_spiffe_id = ctx.peer_identity->spiffe_id;
    r.peer_subject = ctx.peer_identity->subject;
  }
  const mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (ctx.outcome.upstream_contacted && (rpc == nullptr || !rpc->active)) {  // an MCP server is no GenAI provider
    r.provider = ctx.upstream.provider;
    r.provider_api = provider_name_of(ctx.upstream.provider, ctx.upstream.api);
  }
  // The model served; for a request denied before routing (authorize, admit), the model the caller asked for.
  if (!ctx.model.empty())
    r.model = ctx.model;
  else if (ctx.body_fields && ctx.body_fields->model)
    r.model = *ctx.body_fields->model;
  r.stream = ctx.request.stream;
  r.max_tokens = ctx.request.max_output_tokens;
  r.status = ctx.outcome.status;
  r.error_code = ctx.outcome.error_code;
  r.error_type = genai_error_type({
      .status = ctx.outcome.status,
      .gateway_timeout = ctx.outcome.error_code == "upstream_timeout",
      .client_gone = ctx.outcome.cut == pipeline::ResponseCut::ClientGone,
      .body_timeout = ctx.outcome.cut == pipeline::ResponseCut::Timeout,
      .body_broken = ctx.outcome.cut == pipeline::ResponseCut::UpstreamBroken,
      .provider_error_event = !ctx.usage.error_event.empty(),
  });
  r.attempts = ctx.outcome.upstream_contacted ? ctx.outcome.attempts : 0;
  r.response_bytes = ctx.outcome.response_bytes;
  const pipeline::Usage& u = ctx.usage;
  r.usage_known = u.known;
  r.usage_estimated = u.estimated;
  r.priced_at_default = u.priced_at_default;
  r.input_tokens = u.input_tokens;
  r.output_tokens = u.output_tokens;
  r.cached_input_tokens = u.cached_input_tokens;
  r.cache_creation_input_tokens = u.cache_creation_input_tokens;
  r.reasoning_tokens = u.reasoning_tokens;
  r.cost_micro_usd = u.cost_micro_usd;
  r.usage_error_event = u.error_event;
  r.start_unix_nano = to_unix(ctx.started);
  r.end_unix_nano = now_unix;
  r.total_seconds = seconds(now - ctx.started);
  r.gateway_seconds = r.total_seconds - seconds(ctx.outcome.upstream_total);
  r.upstream_ttfb_seconds = seconds(ctx.outcome.upstream_first_byte);
  if (!ctx.attempts.empty() && ctx.outcome.upstream_contacted) {
    const auto& last = ctx.attempts.back();
    r.upstream_stream_seconds = std::max(0.0, seconds(last.ended - last.started) - r.upstream_ttfb_seconds);
  }
  if (t.first_output != Clock::time_point{})
    r.time_to_first_output_seconds = seconds(t.first_output - ctx.started);
  r.denied = denied;
  if (denied) {
    r.decision_filter = ctx.decision.filter;
    r.decision_rule = ctx.decision.rule;
    r.decision_reason = ctx.decision.reason;
  }
  r.shadow_rules = ctx.decision.shadow_rules;
  r.policy_version = ctx.snapshot->version;
  r.policy_generation = ctx.snapshot->generation;
  if (rpc != nullptr) record_rpc(*rpc, now, r);
  if (ctx.metrics != nullptr) ctx.metrics->calls().record(r, caps_);
  if (output_ == nullptr || !output_->wants(sampled, denied)) return;
  if (sampled && output_->exporting()) {
    r.upstream_attempts.reserve(ctx.attempts.size());
    for (const auto& a : ctx.attempts) {
      AttemptSpanRecord& s = r.upstream_attempts.emplace_back();
      s.span_id = t.attempt_span(a.number);
      s.provider = a.provider;
      s.provider_api = provider_name_of(a.provider, a.api);
      s.endpoint = a.endpoint;
      s.target = a.target;
      s.model = a.model;
      s.start_unix_nano = to_unix(a.started);
      s.end_unix_nano = to_unix(a.ended);
      s.status = a.status;
      s.failure = providers::resilience::failure_name(a.failure);
    }
    if (config_.telemetry.capture_content) {
      r.input_content = ctx.body.substr(0, kMaxContentBytes);
      r.output_content = t.output_content;
    }
  }
  output_->submit(std::move(r));
}

}  // namespace tollway::telemetry
