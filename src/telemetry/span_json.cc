#include "telemetry/span_json.h"

#include <charconv>
#include <string>
#include <string_view>

#include "telemetry/genai_semconv.h"

namespace tollway::telemetry {
namespace {

// OTLP Span.SpanKind and Status.StatusCode numbering (the JSON encoding writes the integers).
enum class SpanKind : int { Server = 2, Client = 3 };
enum class StatusCode : int { Unset = 0, Error = 2 };
// Span.flags bits (trace.proto SpanFlags): 0-7 W3C trace flags, 8 = "has is_remote", 9 = "parent is remote".
constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
constexpr uint32_t kSpanFlagsIsRemote = 0x200;

// Writes an id's lowercase hex digits.
template <typename Id>
void hex(TextBuffer& out, const Id& id) {
  id.write_hex(out.reserve(Id::kHexLength));
  out.commit(Id::kHexLength);
}

// One Span object, written field by field in the order the members are called. Attribute keys are this file's
// constants (plain ASCII, written as they are); values are escaped.
class SpanText {
 public:
  explicit SpanText(TextBuffer& out) : out_(out) {}

  // {"traceId":..,"spanId":..,["parentSpanId":..,]"flags":..,"kind":..,"startTimeUnixNano":..,"endTimeUnixNano":..,
  // then the name: the caller writes it with name_part() and ends it with attributes().
  void begin(const TraceId& trace, const SpanId& span, const SpanId& parent, bool parent_remote,
             uint8_t trace_flags, SpanKind kind, uint64_t start_unix_nano, uint64_t end_unix_nano) {
    out_.literal("{\"traceId\":\"");
    hex(out_, trace);
    out_.literal("\",\"spanId\":\"");
    hex(out_, span);
    uint32_t flags = trace_flags;
    if (parent.valid()) {
      out_.literal("\",\"parentSpanId\":\"");
      hex(out_, parent);
      flags |= kSpanFlagsHasIsRemote | (parent_remote ? kSpanFlagsIsRemote : 0);
    }
    out_.literal("\",\"flags\":");
    out_.decimal(flags);
    out_.literal(",\"kind\":");
    out_.decimal(static_cast<int>(kind));
    out_.literal(",\"startTimeUnixNano\":\"");
    out_.decimal(start_unix_nano);
    out_.literal("\",\"endTimeUnixNano\":\"");
    out_.decimal(end_unix_nano);
    out_.literal("\",\"name\":\"");
  }
  void name_part(std::string_view text) { out_.escaped(text); }
  void attributes() { out_.literal("\",\"attributes\":["); }

  void string(std::string_view key, std::string_view value) {
    attribute(key);
    out_.literal("{\"stringValue\":");
    out_.quoted(value);
    out_.literal("}}");
  }
  // int64 values are decimal strings in OTLP JSON.
  void integer(std::string_view key, int64_t value) {
    attribute(key);
    out_.literal("{\"intValue\":\"");
    out_.decimal(value);
    out_.literal("\"}}");
  }
  // A double attribute given as units / 10^decimals (exact decimal text, no shortest-form search).
  void fixed_point(std::string_view key, int64_t units, int decimals) {
    attribute(key);
    out_.literal("{\"doubleValue\":");
    out_.fixed_point(units, decimals);
    out_.literal("}}");
  }
  void boolean(std::string_view key, bool value) {
    attribute(key);
    if (value)
      out_.literal("{\"boolValue\":true}}");
    else
      out_.literal("{\"boolValue\":false}}");
  }

  // Closes the attributes, writes the status and closes the span.
  void end(StatusCode code, std::string_view message) {
    out_.literal("],\"status\":{");
    if (code == StatusCode::Error && !message.empty()) {
      out_.literal("\"message\":");
      out_.quoted(message);
      out_.push_back(',');
    }
    out_.literal("\"code\":");
    out_.decimal(static_cast<int>(code));
    out_.literal("}}");
  }

 private:
  // {"key":"<key>","value": — the value object follows.
  void attribute(std::string_view key) {
    if (!first_attribute_) out_.push_back(',');
    first_attribute_ = false;
    out_.literal("{\"key\":\"");
    out_.append(key);
    out_.literal("\",\"value\":");
  }

  TextBuffer& out_;
  bool first_attribute_ = true;
};

std::string_view status_text(int status, char (&buf)[12]) {
  return {buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, status).ptr - buf)};
}

void append_server_span(TextBuffer& out, const RequestRecord& r) {
  SpanText s(out);
  s.begin(r.trace_id, r.span_id, r.parent_span_id, r.parent_span_id.valid(), r.trace_flags,
          r.client_span ? SpanKind::Client : SpanKind::Server, r.start_unix_nano, r.end_unix_nano);
  s.name_part(r.method);
  s.name_part(" ");
  s.name_part(r.route.empty() ? std::string_view("unmatched") : std::string_view(r.route));
  s.attributes();
  s.string("http.request.method", r.method);
  if (!r.route.empty()) s.string("http.route", r.route);
  s.integer("http.response.status_code", r.status);
  s.string("tollway.request_id", r.request_id);
  if (!r.operation.empty()) s.string(genai::kOperationName, r.operation);
  if (!r.provider_api.empty()) s.string(genai::kProviderName, r.provider_api);
  const std::string& requested = r.upstream_attempts.empty() ? r.model : r.upstream_attempts.front().model;
  if (!requested.empty()) s.string(genai::kRequestModel, requested);
  if (!r.model.empty() && !r.provider.empty()) s.string(genai::kResponseModel, r.model);
  if (r.max_tokens) s.integer(genai::kRequestMaxTokens, static_cast<int64_t>(*r.max_tokens));
  if (r.usage_known || r.usage_estimated) {
    s.integer(genai::kUsageInputTokens, static_cast<int64_t>(r.input_tokens));
    s.integer(genai::kUsageOutputTokens, static_cast<int64_t>(r.output_tokens));
    s.boolean("tollway.usage.estimated", r.usage_estimated);
    s.fixed_point("tollway.cost_usd", r.cost_micro_usd, 6);
  }
  if (!r.session.empty()) s.string(genai::kConversationId, r.session);
  if (!r.tenant.empty()) s.string("tollway.tenant", r.tenant);
  if (!r.agent.empty()) s.string("tollway.agent", r.agent);
  if (!r.provider.empty()) s.string("tollway.provider", r.provider);
  s.integer("tollway.attempts", r.attempts);
  s.string("tollway.trace_context", to_string(r.incoming));
  if (r.restarted) s.boolean("tollway.trace_restarted", true);
  if (!r.source_spiffe_id.empty()) s.string("tollway.source.spiffe_id", r.source_spiffe_id);
  if (!r.destination_spiffe_id.empty()) s.string("tollway.destination.spiffe_id", r.destination_spiffe_id);
  if (!r.peer_name.empty()) s.string("tollway.peer", r.peer_name);
  if (r.hops > 0) s.integer("tollway.hops", r.hops);
  if (r.trace_orphan) s.boolean("tollway.trace.orphan", true);
  if (r.trace_repaired) s.boolean("tollway.trace.repaired", true);
  if (r.denied) {
    s.string("tollway.decision.filter", r.decision_filter);
    s.string("tollway.decision.rule", r.decision_rule);
    s.string("tollway.decision.reason", r.decision_reason);
    s.string("tollway.policy.version", r.policy_version);
  }
  if (!r.error_type.empty()) s.string(genai::kErrorType, r.error_type);  // the metrics' bounded classes
  if (!r.input_content.empty()) s.string(genai::kInputMessages, r.input_content);
  if (!r.output_content.empty()) s.string(genai::kOutputMessages, r.output_content);
  // HTTP server span status: Error for 5xx, no response, or a response that did not end well (cut, timed out,
  // the caller left); a 4xx stays Unset (the caller's error, not ours).
  const bool failed = r.status >= 500 || r.status == 0 || (!r.error_type.empty() && r.status < 400);
  s.end(failed ? StatusCode::Error : StatusCode::Unset, r.error_code.empty() ? r.error_type : r.error_code);
}

std::string full_url(std::string_view endpoint_url, std::string_view target) {
  const std::size_t scheme_end = endpoint_url.find("://");
  const std::size_t path = scheme_end == std::string_view::npos ? std::string_view::npos
                                                                  : endpoint_url.find('/', scheme_end + 3);
  std::string url(endpoint_url.substr(0, path));  // scheme://host[:port]; the target repeats the path prefix
  url += target;
  return url;
}

void append_client_span(TextBuffer& out, const RequestRecord& r, std::size_t index) {
  const AttemptSpanRecord& at = r.upstream_attempts[index];
  SpanText s(out);
  s.begin(r.trace_id, at.span_id, r.span_id, false, r.trace_flags, SpanKind::Client, at.start_unix_nano,
          at.end_unix_nano);
  s.name_part(r.operation.empty() ? std::string_view("http") : std::string_view(r.operation));
  if (!at.model.empty()) {
    s.name_part(" ");
    s.name_part(at.model);
  }
  s.attributes();
  if (!r.operation.empty()) s.string(genai::kOperationName, r.operation);
  s.string(genai::kProviderName, at.provider_api);
  if (!at.model.empty()) s.string(genai::kRequestModel, at.model);
  s.string("tollway.provider", at.provider);
  s.string("url.full", full_url(at.endpoint, at.target));
  s.integer("tollway.attempt", static_cast<int64_t>(index + 1));
  if (at.status) s.integer("http.response.status_code", at.status);
  const bool answered = index + 1 == r.upstream_attempts.size() && at.failure.empty();
  if (answered) {
    if (!at.model.empty()) s.string(genai::kResponseModel, at.model);
    if (r.usage_known || r.usage_estimated) {
      s.integer(genai::kUsageInputTokens, static_cast<int64_t>(r.input_tokens));
      s.integer(genai::kUsageOutputTokens, static_cast<int64_t>(r.output_tokens));
    }
  }
  if (!at.failure.empty() || at.status >= 400) {
    char status_buf[12];
    const std::string_view status = status_text(at.status, status_buf);
    s.string(genai::kErrorType, at.failure.empty() ? status : std::string_view(at.failure));
    if (at.failure.empty()) {
      std::string message = "HTTP ";
      message += status;
      s.end(StatusCode::Error, message);
    } else {
      s.end(StatusCode::Error, at.failure);
    }
    return;
  }
  s.end(StatusCode::Unset, {});
}

// An MCP or A2A operation under the hop's span: the server side's span on an inbound hop (the sidecar stands for the
// MCP server or A2A agent), the client side's on an outbound one.
void append_rpc_span(TextBuffer& out, const RequestRecord& r, const RpcSpanRecord& op) {
  const bool a2a = r.rpc_protocol == "a2a";
  SpanText s(out);
  s.begin(r.trace_id, op.span_id, r.span_id, false, r.trace_flags, r.client_span ? SpanKind::Client : SpanKind::Server,
          r.start_unix_nano, op.end_unix_nano != 0 ? op.end_unix_nano : r.end_unix_nano);
  s.name_part(op.method);
  if (op.target_kind == "tool" || op.target_kind == "prompt" || op.target_kind == "skill") {
    s.name_part(" ");
    s.name_part(op.target);
  }
  s.attributes();
  if (a2a) {
    s.string("rpc.method", op.method);
    if (!r.rpc_protocol_version.empty()) s.string("tollway.a2a.protocol.version", r.rpc_protocol_version);
  } else {
    s.string("mcp.method.name", op.method);
    if (!r.rpc_session_id.empty()) s.string("mcp.session.id", r.rpc_session_id);
    if (!r.rpc_protocol_version.empty()) s.string("mcp.protocol.version", r.rpc_protocol_version);
  }
  if (!op.request_id.empty()) s.string("jsonrpc.request.id", op.request_id);
  s.string("jsonrpc.protocol.version", "2.0");
  if (!op.operation.empty()) s.string(genai::kOperationName, op.operation);
  if (op.target_kind == "tool") {
    s.string("gen_ai.tool.name", op.target);
  } else if (op.target_kind == "prompt") {
    s.string("gen_ai.prompt.name", op.target);
  } else if (op.target_kind == "resource") {
    s.string("mcp.resource.uri", op.target);
  }
  if (a2a) {
    if (!r.rpc_server.empty()) s.string(genai::kAgentName, r.rpc_server);
    if (op.target_kind == "skill") s.string("tollway.a2a.skill", op.target);
    if (!op.task_id.empty()) s.string("tollway.a2a.task.id", op.task_id);
    if (!op.context_id.empty()) {
      s.string("tollway.a2a.context.id", op.context_id);
      s.string(genai::kConversationId, op.context_id);
    }
  } else if (!r.rpc_server.empty()) {
    s.string("tollway.mcp.server", r.rpc_server);
  }
  if (!r.source_spiffe_id.empty()) s.string("tollway.source.spiffe_id", r.source_spiffe_id);
  if (!r.destination_spiffe_id.empty()) s.string("tollway.destination.spiffe_id", r.destination_spiffe_id);
  if (!op.error_type.empty()) {
    s.string(genai::kErrorType, op.error_type);
    s.end(StatusCode::Error, op.error_type);
    return;
  }
  s.end(StatusCode::Unset, {});
}

}  // namespace

std::size_t append_request_spans(TextBuffer& out, const RequestRecord& r, bool first) {
  if (!first) out.push_back(',');
  append_server_span(out, r);
  for (std::size_t i = 0; i < r.upstream_attempts.size(); ++i) {
    out.push_back(',');
    append_client_span(out, r, i);
  }
  for (const auto& op : r.rpc_operations) {
    out.push_back(',');
    append_rpc_span(out, r, op);
  }
  return span_count(r);
}

}  // namespace tollway::telemetry
