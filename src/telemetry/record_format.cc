#include "telemetry/record_format.h"

#include <ctime>

#include "core/json.h"
#include "telemetry/genai_semconv.h"

namespace tollway::telemetry {
namespace {

double millis(double seconds) { return static_cast<double>(static_cast<int64_t>(seconds * 1e6)) / 1e3; }

void common_fields(json::ObjectWriter& w, const RequestRecord& r, const char* type) {
  w.field("ts", iso_time_millis(r.end_unix_nano))
      .field("type", type)
      .field("request_id", r.request_id)
      .field("trace_id", r.trace_id.hex())
      .field("span_id", r.span_id.hex())
      .field("tenant", r.tenant)
      .field("agent", r.agent)
      .field("key_id", r.key_id)
      .field("session", r.session);
}

void decision_object(json::ObjectWriter& w, const RequestRecord& r) {
  json::ObjectWriter d;
  d.field("filter", r.decision_filter).field("rule", r.decision_rule).field("reason", r.decision_reason);
  w.raw_field("decision", std::move(d).finish());
}

std::string shadow_list(const RequestRecord& r) {
  std::string list = "[";
  for (const auto& rule : r.shadow_rules) {
    if (list.size() > 1) list.push_back(',');
    json::append_quoted(list, rule);
  }
  return list + "]";
}

}  // namespace

std::string iso_time_millis(uint64_t unix_nano) {
  // The date and time to the second change once a second: formatted once per second and thread.
  thread_local std::time_t cached_second = -1;
  thread_local char cached[24];
  const std::time_t seconds = static_cast<std::time_t>(unix_nano / 1'000'000'000);
  if (seconds != cached_second) {
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = seconds;
  }
  const unsigned millis = static_cast<unsigned>(unix_nano / 1'000'000 % 1000);
  std::string out(cached);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + millis / 100));
  out.push_back(static_cast<char>('0' + millis / 10 % 10));
  out.push_back(static_cast<char>('0' + millis % 10));
  out.push_back('Z');
  return out;
}

std::string access_log_line(const RequestRecord& r) {
  json::ObjectWriter w;
  common_fields(w, r, "access");
  w.field("method", r.method)
      .field("route", r.route)
      .field("provider", r.provider)
      .field("model", r.model)
      .field("stream", r.stream)
      .field("status", r.status)
      .field("attempts", static_cast<uint64_t>(r.attempts))
      .field("input_tokens", r.input_tokens)
      .field("output_tokens", r.output_tokens)
      .field("cached_input_tokens", r.cached_input_tokens)
      .field("cache_creation_input_tokens", r.cache_creation_input_tokens)
      .field("reasoning_tokens", r.reasoning_tokens)
      .field("usage", r.usage_known ? "reported" : r.usage_estimated ? "estimated" : "none")
      .field("cost_usd", static_cast<double>(r.cost_micro_usd) / 1e6)
      .field("cost_micro_usd", r.cost_micro_usd)
      .field("priced_at_default", r.priced_at_default);
  if (!r.usage_error_event.empty()) w.field("error_event", r.usage_error_event);
  if (!r.error_code.empty()) w.field("error_code", r.error_code);
  json::ObjectWriter latency;
  latency.field("total", millis(r.total_seconds))
      .field("tollway", millis(r.gateway_seconds))
      .field("upstream_ttfb", millis(r.upstream_ttfb_seconds))
      .field("stream", millis(r.upstream_stream_seconds));
  w.raw_field("latency_ms", std::move(latency).finish());
  if (r.denied) decision_object(w, r);
  if (!r.shadow_rules.empty()) w.raw_field("shadow_rules", shadow_list(r));
  w.field("trace_context", to_string(r.incoming));
  if (r.restarted) w.field("trace_restarted", true);
  return std::move(w).finish();
}

std::string decision_log_line(const RequestRecord& r) {
  json::ObjectWriter w;
  common_fields(w, r, "decision");
  w.field("method", r.method).field("route", r.route).field("model", r.model).field("status", r.status);
  decision_object(w, r);
  if (!r.shadow_rules.empty()) w.raw_field("shadow_rules", shadow_list(r));
  w.field("policy_version", r.policy_version).field("policy_generation", r.policy_generation);
  return std::move(w).finish();
}

void append_spans(const RequestRecord& r, std::vector<Span>& out) {
  out.reserve(out.size() + 1 + r.upstream_attempts.size());
  Span& server = out.emplace_back();
  server.trace_id = r.trace_id;
  server.span_id = r.span_id;
  server.parent_span_id = r.parent_span_id;
  server.parent_is_remote = r.parent_span_id.valid();
  server.trace_flags = r.trace_flags;
  server.kind = SpanKind::Server;
  server.name = r.method + " " + (r.route.empty() ? std::string("unmatched") : r.route);
  server.start_unix_nano = r.start_unix_nano;
  server.end_unix_nano = r.end_unix_nano;
  AttributeList& a = server.attributes;
  a.reserve(32);
  a.set("http.request.method", r.method);
  if (!r.route.empty()) a.set("http.route", r.route);
  a.set("http.response.status_code", r.status);
  a.set("tollway.request_id", r.request_id);
  if (!r.operation.empty()) a.set(genai::kOperationName, r.operation);
  if (!r.provider_api.empty()) a.set(genai::kProviderName, r.provider_api);
  const std::string& requested = r.upstream_attempts.empty() ? r.model : r.upstream_attempts.front().model;
  if (!requested.empty()) a.set(genai::kRequestModel, requested);
  if (!r.model.empty() && !r.provider.empty()) a.set(genai::kResponseModel, r.model);
  if (r.max_tokens) a.set(genai::kRequestMaxTokens, static_cast<int64_t>(*r.max_tokens));
  if (r.usage_known || r.usage_estimated) {
    a.set(genai::kUsageInputTokens, static_cast<int64_t>(r.input_tokens));
    a.set(genai::kUsageOutputTokens, static_cast<int64_t>(r.output_tokens));
    a.set("tollway.usage.estimated", r.usage_estimated);
    a.set("tollway.cost_usd", static_cast<double>(r.cost_micro_usd) / 1e6);
  }
  if (!r.session.empty()) a.set(genai::kConversationId, r.session);
  if (!r.tenant.empty()) a.set("tollway.tenant", r.tenant);
  if (!r.agent.empty()) a.set("tollway.agent", r.agent);
  if (!r.provider.empty()) a.set("tollway.provider", r.provider);
  a.set("tollway.attempts", static_cast<int64_t>(r.attempts));
  a.set("tollway.trace_context", to_string(r.incoming));
  if (r.restarted) a.set("tollway.trace_restarted", true);
  if (r.denied) {
    a.set("tollway.decision.filter", r.decision_filter);
    a.set("tollway.decision.rule", r.decision_rule);
    a.set("tollway.decision.reason", r.decision_reason);
    a.set("tollway.policy.version", r.policy_version);
  }
  if (r.status >= 400) a.set(genai::kErrorType, std::to_string(r.status));
  if (!r.input_content.empty()) a.set(genai::kInputMessages, r.input_content);
  if (!r.output_content.empty()) a.set(genai::kOutputMessages, r.output_content);
  if (r.status >= 500 || r.status == 0) {
    server.status_code = StatusCode::Error;
    server.status_message = r.error_code;
  }
  for (std::size_t i = 0; i < r.upstream_attempts.size(); ++i) {
    const AttemptSpanRecord& at = r.upstream_attempts[i];
    Span& client = out.emplace_back();
    client.trace_id = r.trace_id;
    client.span_id = at.span_id;
    client.parent_span_id = r.span_id;
    client.trace_flags = r.trace_flags;
    client.kind = SpanKind::Client;
    client.name = (r.operation.empty() ? std::string("http") : r.operation) + (at.model.empty() ? "" : " " + at.model);
    client.start_unix_nano = at.start_unix_nano;
    client.end_unix_nano = at.end_unix_nano;
    AttributeList& c = client.attributes;
    c.reserve(12);
    if (!r.operation.empty()) c.set(genai::kOperationName, r.operation);
    c.set(genai::kProviderName, at.provider_api);
    if (!at.model.empty()) c.set(genai::kRequestModel, at.model);
    c.set("tollway.provider", at.provider);
    c.set("url.full", at.endpoint);
    c.set("tollway.attempt", static_cast<int64_t>(i + 1));
    if (at.status) c.set("http.response.status_code", at.status);
    const bool answered = i + 1 == r.upstream_attempts.size() && at.failure.empty();
    if (answered) {
      if (!at.model.empty()) c.set(genai::kResponseModel, at.model);
      if (r.usage_known || r.usage_estimated) {
        c.set(genai::kUsageInputTokens, static_cast<int64_t>(r.input_tokens));
        c.set(genai::kUsageOutputTokens, static_cast<int64_t>(r.output_tokens));
      }
    }
    if (!at.failure.empty() || at.status >= 400) {
      c.set(genai::kErrorType, at.failure.empty() ? std::to_string(at.status) : at.failure);
      client.status_code = StatusCode::Error;
      client.status_message = at.failure.empty() ? "HTTP " + std::to_string(at.status) : at.failure;
    }
  }
}

}  // namespace tollway::telemetry
