#include "telemetry/record_format.h"

#include <ctime>

namespace tollway::telemetry {
namespace {

// Milliseconds with microsecond resolution, e.g. 4.25.
void millis(TextBuffer& out, double seconds) {
  out.fixed_point(static_cast<int64_t>(seconds * 1e6), 3);
}

template <typename Id>
void quoted_hex(TextBuffer& out, const Id& id) {
  out.push_back('"');
  id.write_hex(out.reserve(Id::kHexLength));
  out.commit(Id::kHexLength);
  out.push_back('"');
}

void boolean(TextBuffer& out, bool value) {
  if (value)
    out.literal("true");
  else
    out.literal("false");
}

// {"ts":..,"type":..,"request_id":..,"trace_id":..,"span_id":..,"tenant":..,"agent":..,"key_id":..,"session":..
void common_fields(TextBuffer& out, const RequestRecord& r, std::string_view type) {
  out.literal("{\"ts\":\"");
  append_iso_time_millis(out, r.end_unix_nano);
  out.literal("\",\"type\":\"");
  out.append(type);
  out.literal("\",\"request_id\":");
  out.quoted(r.request_id);
  out.literal(",\"trace_id\":");
  quoted_hex(out, r.trace_id);
  out.literal(",\"span_id\":");
  quoted_hex(out, r.span_id);
  out.literal(",\"tenant\":");
  out.quoted(r.tenant);
  out.literal(",\"agent\":");
  out.quoted(r.agent);
  out.literal(",\"key_id\":");
  out.quoted(r.key_id);
  out.literal(",\"session\":");
  out.quoted(r.session);
}

// ,"decision":{...}[,"shadow_rules":[...]]
void decision_fields(TextBuffer& out, const RequestRecord& r) {
  if (r.denied) {
    out.literal(",\"decision\":{\"filter\":");
    out.quoted(r.decision_filter);
    out.literal(",\"rule\":");
    out.quoted(r.decision_rule);
    out.literal(",\"reason\":");
    out.quoted(r.decision_reason);
    out.push_back('}');
  }
  if (r.shadow_rules.empty()) return;
  out.literal(",\"shadow_rules\":[");
  for (std::size_t i = 0; i < r.shadow_rules.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.quoted(r.shadow_rules[i]);
  }
  out.push_back(']');
}

}  // namespace

void append_iso_time_millis(TextBuffer& out, uint64_t unix_nano) {
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
  out.append(std::string_view(cached, cached_length));
  const char fraction[5] = {'.', static_cast<char>('0' + millis / 100),
                            static_cast<char>('0' + millis / 10 % 10), static_cast<char>('0' + millis % 10),
                            'Z'};
  out.append(std::string_view(fraction, sizeof fraction));
}

void append_access_log_line(TextBuffer& out, const RequestRecord& r) {
  common_fields(out, r, "access");
  if (!r.peer_spiffe_id.empty()) {
    out.literal(",\"peer_spiffe_id\":");
    out.quoted(r.peer_spiffe_id);
  }
  if (!r.peer_subject.empty()) {
    out.literal(",\"peer_subject\":");
    out.quoted(r.peer_subject);
  }
  out.literal(",\"method\":");
  out.quoted(r.method);
  out.literal(",\"route\":");
  out.quoted(r.route);
  out.literal(",\"provider\":");
  out.quoted(r.provider);
  out.literal(",\"model\":");
  out.quoted(r.model);
  out.literal(",\"stream\":");
  boolean(out, r.stream);
  out.literal(",\"status\":");
  out.decimal(r.status);
  out.literal(",\"attempts\":");
  out.decimal(r.attempts);
  out.literal(",\"input_tokens\":");
  out.decimal(r.input_tokens);
  out.literal(",\"output_tokens\":");
  out.decimal(r.output_tokens);
  out.literal(",\"cached_input_tokens\":");
  out.decimal(r.cached_input_tokens);
  out.literal(",\"cache_creation_input_tokens\":");
  out.decimal(r.cache_creation_input_tokens);
  out.literal(",\"reasoning_tokens\":");
  out.decimal(r.reasoning_tokens);
  if (r.usage_known)
    out.literal(",\"usage\":\"reported\"");
  else if (r.usage_estimated)
    out.literal(",\"usage\":\"estimated\"");
  else
    out.literal(",\"usage\":\"none\"");
  out.literal(",\"cost_usd\":");
  out.fixed_point(r.cost_micro_usd, 6);
  out.literal(",\"cost_micro_usd\":");
  out.decimal(r.cost_micro_usd);
  out.literal(",\"priced_at_default\":");
  boolean(out, r.priced_at_default);
  if (!r.usage_error_event.empty()) {
    out.literal(",\"error_event\":");
    out.quoted(r.usage_error_event);
  }
  if (!r.error_code.empty()) {
    out.literal(",\"error_code\":");
    out.quoted(r.error_code);
  }
  out.literal(",\"latency_ms\":{\"total\":");
  millis(out, r.total_seconds);
  out.literal(",\"tollway\":");
  millis(out, r.gateway_seconds);
  out.literal(",\"upstream_ttfb\":");
  millis(out, r.upstream_ttfb_seconds);
  out.literal(",\"stream\":");
  millis(out, r.upstream_stream_seconds);
  out.push_back('}');
  decision_fields(out, r);
  out.literal(",\"trace_context\":\"");
  out.append(to_string(r.incoming));
  out.push_back('"');
  if (r.restarted) out.literal(",\"trace_restarted\":true");
  out.push_back('}');
}

void append_decision_log_line(TextBuffer& out, const RequestRecord& r) {
  common_fields(out, r, "decision");
  out.literal(",\"method\":");
  out.quoted(r.method);
  out.literal(",\"route\":");
  out.quoted(r.route);
  out.literal(",\"model\":");
  out.quoted(r.model);
  out.literal(",\"status\":");
  out.decimal(r.status);
  decision_fields(out, r);
  out.literal(",\"policy_version\":");
  out.quoted(r.policy_version);
  out.literal(",\"policy_generation\":");
  out.decimal(r.policy_generation);
  out.push_back('}');
}

}  // namespace tollway::telemetry
