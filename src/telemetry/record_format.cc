#include "telemetry/record_format.h"

#include <ctime>

#include "core/json.h"

namespace tollway::telemetry {
namespace {

double millis(double seconds) { return static_cast<double>(static_cast<int64_t>(seconds * 1e6)) / 1e3; }

void common_fields(json::ObjectWriter& w, const RequestRecord& r, const char* type) {
  std::string& out = w.nested("ts");
  out.push_back('"');
  append_iso_time_millis(out, r.end_unix_nano);
  out.push_back('"');
  w.field("type", type).field("request_id", r.request_id);
  w.nested("trace_id").push_back('"');
  r.trace_id.append_hex(out);
  out.push_back('"');
  w.nested("span_id").push_back('"');
  r.span_id.append_hex(out);
  out.push_back('"');
  w.field("tenant", r.tenant)
      .field("agent", r.agent)
      .field("key_id", r.key_id)
      .field("session", r.session);
}

void decision_object(json::ObjectWriter& w, const RequestRecord& r) {
  json::ObjectWriter d(w.nested("decision"));
  d.field("filter", r.decision_filter).field("rule", r.decision_rule).field("reason", r.decision_reason);
  d.close();
}

void shadow_list(json::ObjectWriter& w, const RequestRecord& r) {
  if (r.shadow_rules.empty()) return;
  std::string& out = w.nested("shadow_rules");
  out.push_back('[');
  for (std::size_t i = 0; i < r.shadow_rules.size(); ++i) {
    if (i > 0) out.push_back(',');
    json::append_quoted(out, r.shadow_rules[i]);
  }
  out.push_back(']');
}

}  // namespace

void append_iso_time_millis(std::string& out, uint64_t unix_nano) {
  // The date and time to the second change once a second: formatted once per second and thread.
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_length = 0;
  const std::time_t seconds = static_cast<std::time_t>(unix_nano / 1'000'000'000);
  if (seconds != cached_second) {
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    cached_length = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = seconds;
  }
  const unsigned millis = static_cast<unsigned>(unix_nano / 1'000'000 % 1000);
  const char fraction[5] = {'.', static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                            static_cast<char>('0' + millis % 10), 'Z'};
  out.append(cached, cached_length).append(fraction, sizeof fraction);
}

void append_access_log_line(std::string& out, const RequestRecord& r) {
  json::ObjectWriter w(out);
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
  json::ObjectWriter latency(w.nested("latency_ms"));
  latency.field("total", millis(r.total_seconds))
      .field("tollway", millis(r.gateway_seconds))
      .field("upstream_ttfb", millis(r.upstream_ttfb_seconds))
      .field("stream", millis(r.upstream_stream_seconds));
  latency.close();
  if (r.denied) decision_object(w, r);
  shadow_list(w, r);
  w.field("trace_context", to_string(r.incoming));
  if (r.restarted) w.field("trace_restarted", true);
  w.close();
}

void append_decision_log_line(std::string& out, const RequestRecord& r) {
  json::ObjectWriter w(out);
  common_fields(w, r, "decision");
  w.field("method", r.method).field("route", r.route).field("model", r.model).field("status", r.status);
  decision_object(w, r);
  shadow_list(w, r);
  w.field("policy_version", r.policy_version).field("policy_generation", r.policy_generation);
  w.close();
}

}  // namespace tollway::telemetry
