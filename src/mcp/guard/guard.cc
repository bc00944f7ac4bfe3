#include "mcp/guard/guard.h"

#include <array>
#include <chrono>

#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "http/sse.h"
#include "mcp/edit.h"
#include "telemetry/trace_info.h"

namespace tollway::mcp {
namespace {

using Clock = std::chrono::steady_clock;

// OpenTelemetry's MCP conventions: the recommended buckets of mcp.*.operation.duration, in seconds.
constexpr std::array<double, 14> kDurationBounds{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300};
constexpr std::size_t kMaxDurationSeries = 512;  // label sets beyond this are counted under tool "_other"

// The one value of header `name`: nullopt when absent, `repeated` set when it came more than once.
std::optional<std::string_view> single_header(const http::RequestHead& head, std::string_view name, bool& repeated) {
  std::optional<std::string_view> value;
  for (const auto& h : head.headers) {
    if (!http::iequals(h.name, name)) continue;
    if (value) repeated = true;
    value = h.value;
  }
  return value;
}

// MCP: a session id is visible ASCII (0x21 to 0x7E).
bool valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > 1024) return false;
  for (const char c : id)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::string_view kind_name(TargetKind kind) {
  switch (kind) {
    case TargetKind::Tool: return "tool";
    case TargetKind::Resource: return "resource";
    case TargetKind::Prompt: return "prompt";
    case TargetKind::None: break;
  }
  return "";
}

void log_decision(const pipeline::RequestCtx& ctx, const McpServerRef& server, const McpCaller& caller,
                  const Operation& op, std::string_view decision, int rule_line, bool audit) {
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id).field("decision", decision);
  for (const auto& [key, value] : caller.log_fields) w.field(key, value);
  w.field("mcp_server", server.name).field("mcp_method", op.method).field(kind_name(op.kind), op.target);
  if (rule_line > 0) w.field("rule_line", rule_line);
  if (audit) w.field("mode", "audit");
  log::info("authorization decision", w);
}

// The error.type of one response message answering `call` ("" for a success).
std::string outcome_of(const Message& m) {
  if (m.kind == Message::Kind::Error) return std::to_string(m.error->find("code")->as_int());
  const Json* is_error = m.result->find("isError");
  if (is_error != nullptr && is_error->is_bool() && is_error->as_bool()) return "tool_error";
  return "";
}

// Reads the server's answer: filters list results to what the caller may use, and records each call's outcome.
// A JSON body is held whole (it is one message or batch); an SSE stream is passed on event by event, a list
// result's event re-framed with the filtered data.
class McpResponseReader final : public pipeline::ResponseBodyTransformer {
 public:
  McpResponseReader(uint64_t max_message_bytes, McpCaller caller, mcp::RpcInfo& mcp,
                    std::map<std::string, const ListShape*> lists, bool sse)
      : max_message_bytes_(max_message_bytes), caller_(std::move(caller)), mcp_(mcp), lists_(std::move(lists)),
        sse_(sse) {}

  void transform(std::string_view in, bool last, std::string& out) override {
    if (discard_) return;
    if (sse_) return transform_sse(in, last, out);
    if (overflow_) {
      out.append(in);
      return;
    }
    held_.append(in);
    if (held_.size() > max_message_bytes_) {
      if (!lists_.empty()) return refuse_lists(out);  // a list that cannot be filtered is never passed on
      overflow_ = true;
      out.append(held_);
      held_.clear();
      return;
    }
    if (!last) return;
    out += read_json_body(held_);
  }
  bool changes_length() const override { return !lists_.empty(); }

 private:
  // One body (or one event's data): the rewritten text. A list that cannot be read becomes an error.
  std::string read_json_body(std::string_view text) {
    ReadError error;
    auto envelope = read_envelope(text, error, {max_message_bytes_, 64});
    if (!envelope) {
      if (lists_.empty()) return std::string(text);
      return unreadable_lists();
    }
    std::string current(text);
    bool edited = false;
    for (std::size_t i = 0; i < envelope->messages.size(); ++i) {
      const Message& m = envelope->messages[i];
      if (m.kind != Message::Kind::Result && m.kind != Message::Kind::Error) continue;
      record(m);
      const auto list = lists_.find(m.id_key);
      if (list == lists_.end() || m.kind != Message::Kind::Result) continue;
      const ListShape& shape = *list->second;
      lists_.erase(list);
      if (edited) return unreadable_lists();  // two list results in one batch body: not worth a second parse
      std::string filtered;
      const auto keep = [&](std::string_view name) {
        return caller_.decide(shape.kind, name).allowed;
      };
      if (!filter_list_result(text, m, shape, keep, filtered)) return unreadable_lists(m.id);
      current = std::move(filtered);
      edited = true;
    }
    return current;
  }

  void record(const Message& m) {
    for (auto& call : mcp_.calls) {
      if (call.id_key != m.id_key || call.answered != Clock::time_point{}) continue;
      call.answered = Clock::now();
      call.error_type = outcome_of(m);
      return;
    }
  }

  // The errors that replace list results that could not be filtered: every pending one, or the one of `id`.
  std::string unreadable_lists(std::string_view id = {}) {
    const std::string message = "the MCP server's list answer could not be read, so it was not passed on";
    std::string out;
    for (auto& call : mcp_.calls) {
      if (id.empty() ? !lists_.contains(call.id_key) : call.id != id) continue;
      if (!out.empty()) out += ',';
      out += error_response(call.id, kInternalError, message);
      call.error_type = "unreadable_list";
    }
    lists_.clear();
    return mcp_.batch ? "[" + out + "]" : out;
  }

  void refuse_lists(std::string& out) {
    out += unreadable_lists();
    held_.clear();
    overflow_ = true;
    discard_ = true;
  }

  void transform_sse(std::string_view in, bool last, std::string& out) {
    held_.append(in);
    reader_.feed(in, [&](const http::SseEvent& event) {
      const std::size_t begin = static_cast<std::size_t>(event.begin - held_offset_);
      const std::size_t end = static_cast<std::size_t>(event.end - held_offset_);
      out.append(held_, emitted_, begin - emitted_);  // e.g. the LF of a CRLF
      emitted_ = end;
      if (event.data.empty() || event.type != "message") {
        out.append(held_, begin, end - begin);
        return;
      }
      const std::string data = read_json_body(event.data);
      if (data == event.data) {
        out.append(held_, begin, end - begin);
        return;
      }
      if (!event.id.empty()) out.append("id: ").append(event.id).append("\n");
      std::size_t from = 0;
      while (from <= data.size()) {
        const std::size_t nl = data.find('\n', from);
        const std::size_t to = nl == std::string::npos ? data.size() : nl;
        out.append("data: ").append(data, from, to - from).append("\n");
        if (nl == std::string::npos) break;
        from = nl + 1;
      }
      out.push_back(event.ended_with_cr ? '\r' : '\n');
    });
    if (held_.size() - emitted_ > max_message_bytes_ && !lists_.empty()) {
      out += "event: message\ndata: " + unreadable_lists() + "\n\n";
      discard_ = true;
      return;
    }
    if (last) {
      out.append(held_, emitted_);
      return;
    }
    // Keep only what is not yet passed on.
    held_.erase(0, emitted_);
    held_offset_ += emitted_;
    emitted_ = 0;
  }

  uint64_t max_message_bytes_;
  McpCaller caller_;
  mcp::RpcInfo& mcp_;
  std::map<std::string, const ListShape*> lists_;  // pending list results, by id key
  bool sse_;
  std::string held_;
  bool overflow_ = false;  // a body too long to read: passed on unread (no list was pending)
  bool discard_ = false;   // a list could not be filtered: its error was sent, nothing more is
  http::SseReader reader_;
  uint64_t held_offset_ = 0;  // stream offset of held_[0]
  std::size_t emitted_ = 0;   // bytes of held_ already passed on
};

}  // namespace

std::string rpc_error_reply(const mcp::RpcInfo& rpc, int code, std::string_view message,
                            std::string_view data_json) {
  std::string out;
  for (const auto& call : rpc.calls) {
    if (call.id.empty()) continue;
    if (!out.empty()) out += ',';
    out += error_response(call.id, code, message, data_json);
    if (!rpc.batch) return out;
  }
  if (out.empty()) return error_response({}, code, message, data_json);
  return rpc.batch ? "[" + out + "]" : out;
}

int rpc_error_status(const mcp::RpcInfo* rpc, int status) {
  if (rpc == nullptr || !rpc->active) return status;
  for (const auto& call : rpc->calls)
    if (!call.id.empty()) return 200;
  return status;
}

pipeline::Verdict reply_rpc_error(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                                  std::string_view reason, std::string_view error_type) {
  ctx.reply.status = status;
  ctx.reply.content_type.clear();
  json::ObjectWriter data;
  data.field("type", error_type).field("code", reason);
  mcp::RpcInfo& rpc = ctx.features.get<mcp::RpcInfo>();
  ctx.reply.body = rpc_error_reply(rpc, code, message, std::move(data).finish());
  ctx.outcome.error = std::move(message);
  ctx.outcome.error_code = std::string(reason);
  for (auto& call : rpc.calls)
    if (call.error_type.empty()) call.error_type = std::string(reason);
  return pipeline::Verdict::Replied;
}

pipeline::Verdict McpGuard::refuse(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                                   std::string_view reason) const {
  runtime_.count_refusal(reason);
  return reply_rpc_error(ctx, status, code, std::move(message), reason, policy_->error_type());
}

asio::awaitable<pipeline::Verdict> McpGuard::authorize(pipeline::RequestCtx& ctx) {
  const McpServerRef* server = policy_->server(ctx);
  if (server == nullptr) co_return pipeline::Verdict::Continue;
  // Streamable HTTP: POST carries messages (read below); GET opens the server's stream and DELETE ends a session,
  // neither with a body. Nothing else reaches the server unread.
  const std::string_view method = ctx.head->method;
  if (method != "POST") {
    if (method != "GET" && method != "DELETE") {
      ctx.reply.headers.emplace_back("allow", "POST, GET, DELETE");
      co_return refuse(ctx, 405, kInvalidRequest, "an MCP endpoint takes POST, GET and DELETE",
                       "invalid_mcp_request");
    }
    if (!ctx.body.empty())
      co_return refuse(ctx, 400, kInvalidRequest, "MCP GET and DELETE requests carry no body",
                       "invalid_mcp_request");
    co_return pipeline::Verdict::Continue;
  }
  mcp::RpcInfo& info = ctx.features.get<mcp::RpcInfo>();
  info.server = server->name;
  bool repeated = false;
  const auto session = single_header(*ctx.head, "mcp-session-id", repeated);
  const auto version = single_header(*ctx.head, "mcp-protocol-version", repeated);
  if (repeated)
    co_return refuse(ctx, 400, kInvalidRequest, "Mcp-Session-Id and MCP-Protocol-Version may each come once",
                     "invalid_mcp_request");
  if (session && !valid_session_id(*session))
    co_return refuse(ctx, 400, kInvalidRequest,
                     "Mcp-Session-Id must be 1 to 1024 visible ASCII characters", "invalid_mcp_request");
  if (session) info.session_id = std::string(*session);
  if (version) info.protocol_version = std::string(*version);

  ReadError error;
  auto envelope = read_envelope(ctx.body, error, {server->max_message_bytes, 64});
  if (!envelope) co_return refuse(ctx, 400, error.code, error.message, "invalid_mcp_request");
  info.active = true;
  info.batch = envelope->batch;
  std::vector<Operation> operations(envelope->messages.size());
  for (std::size_t i = 0; i < envelope->messages.size(); ++i) {
    const Message& m = envelope->messages[i];
    if (m.kind != Message::Kind::Request && m.kind != Message::Kind::Notification) continue;
    mcp::RpcCall& call = info.calls.emplace_back();
    call.method = m.method;
    call.id = m.id;
    call.id_key = m.id_key;
    std::string why;
    if (!read_operation(m, operations[i], why))
      co_return refuse(ctx, m.id.empty() ? 400 : 200, kInvalidParams, std::move(why), "invalid_mcp_request");
    call.target = operations[i].target;
    call.tool = operations[i].kind == TargetKind::Tool;
  }

  std::string no_identity;
  const auto caller = policy_->caller(ctx, *server, no_identity);
  if (!caller) co_return refuse(ctx, 403, kForbidden, std::move(no_identity), "no_identity");
  for (const auto& op : operations) {
    if (op.kind == TargetKind::None) continue;
    const McpDecision d = caller->decide(op.kind, op.target);
    if (d.audit_line > 0) log_decision(ctx, *server, *caller, op, d.allowed ? "deny" : "allow", d.audit_line, true);
    log_decision(ctx, *server, *caller, op, d.allowed ? "allow" : "deny", d.rule_line, false);
    if (d.allowed) continue;
    const std::string reason = caller->name + " may not use " + std::string(kind_name(op.kind)) + " \"" +
                               op.target + "\" of MCP server " + server->name +
                               (d.rule_line > 0 ? " (denied by rule)" : " (no rule allows it)");
    ctx.decision = {true, std::string(name()), op.method + " " + op.target, reason, {}};
    for (auto& call : info.calls)
      if (call.id_key == op.id_key && call.method == op.method) call.error_type = "forbidden";
    co_return refuse(ctx, 200, kForbidden,
                     info.batch ? reason + " (nothing of this batch was forwarded)" : reason, "forbidden");
  }

  // Each operation's span continues the hop's; the server reads its context from params._meta.
  if (const auto* trace = ctx.features.find<telemetry::TraceInfo>(); trace != nullptr && trace->established) {
    std::vector<TraceMeta> metas(envelope->messages.size());
    const std::string tracestate = trace->server.trace_state.serialize();
    std::size_t next_call = 0;
    for (std::size_t i = 0; i < envelope->messages.size(); ++i) {
      const auto kind = envelope->messages[i].kind;
      if (kind != Message::Kind::Request && kind != Message::Kind::Notification) continue;
      const telemetry::SpanContext span = telemetry::child_context(trace->server);
      info.calls[next_call++].span = span.span_id;
      metas[i] = {telemetry::format_traceparent(span), tracestate};
    }
    ctx.body = with_trace_meta(ctx.body, *envelope, metas);
  }
  co_return pipeline::Verdict::Continue;
}

std::unique_ptr<pipeline::ResponseBodyTransformer> McpGuard::response_body(pipeline::RequestCtx& ctx,
                                                                           const http::ResponseHead& head) {
  mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (rpc == nullptr || !rpc->active || rpc->protocol != mcp::RpcInfo::Protocol::Mcp || head.status != 200)
    return nullptr;
  std::map<std::string, const ListShape*> lists;
  bool requests = false;
  for (const auto& call : rpc->calls) {
    if (call.id.empty()) continue;
    requests = true;
    if (const ListShape* shape = list_shape(call.method)) lists.emplace(call.id_key, shape);
  }
  if (!requests) return nullptr;
  std::string_view type;
  for (const auto& h : head.headers)
    if (http::iequals(h.name, "content-type")) type = h.value;
  const bool sse = type.starts_with("text/event-stream");
  if (!sse && !type.starts_with("application/json")) return nullptr;
  const McpServerRef* server = policy_->server(ctx);
  std::string no_identity;
  auto caller = server != nullptr ? policy_->caller(ctx, *server, no_identity) : std::nullopt;
  if (!caller) return nullptr;  // authorize refused it
  return std::make_unique<McpResponseReader>(server->max_message_bytes, std::move(*caller), *rpc,
                                             std::move(lists), sse);
}

void McpGuard::log(const pipeline::RequestCtx& ctx) {
  const mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (rpc == nullptr || !rpc->active || rpc->protocol != mcp::RpcInfo::Protocol::Mcp ||
      policy_->server(ctx) == nullptr)
    return;
  const auto now = Clock::now();
  for (const auto& call : rpc->calls) {
    const auto end = call.answered != Clock::time_point{} ? call.answered : now;
    const std::string_view target =
        call.tool || call.method == "prompts/get" ? std::string_view(call.target) : std::string_view();
    runtime_.observe(call.method, target, call.error_type, std::chrono::duration<double>(end - ctx.started).count());
  }
}

namespace {

void observe_into(std::map<std::string, telemetry::ExplicitHistogram>& durations, std::string_view method,
                  std::string_view target, std::string_view error_type, double seconds) {
  namespace prom = core::prometheus;
  std::string labels;
  prom::add_label(labels, "mcp_method_name", method);
  std::string key = labels;
  if (!target.empty()) prom::add_label(key, method == "tools/call" ? "gen_ai_tool_name" : "gen_ai_prompt_name", target);
  if (!error_type.empty()) prom::add_label(key, "error_type", error_type);
  auto it = durations.find(key);
  if (it == durations.end()) {
    if (durations.size() >= kMaxDurationSeries) {
      key = labels;
      prom::add_label(key, "gen_ai_tool_name", "_other");
      it = durations.find(key);
    }
    if (it == durations.end()) it = durations.emplace(key, telemetry::ExplicitHistogram(kDurationBounds)).first;
  }
  it->second.observe(seconds);
}

}  // namespace

void McpRuntime::observe(std::string_view method, std::string_view target, std::string_view error_type,
                         double seconds) {
  std::lock_guard lock(mutex_);
  observe_into(durations_, method, target, error_type, seconds);
}

void McpRuntime::observe_client(std::string_view method, std::string_view target, std::string_view error_type,
                                double seconds) {
  std::lock_guard lock(mutex_);
  observe_into(client_durations_, method, target, error_type, seconds);
}

void McpRuntime::count_refusal(std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++refusals_[std::string(reason)];
}

void McpRuntime::render_metrics(std::string& out) const {
  namespace prom = core::prometheus;
  std::lock_guard lock(mutex_);
  prom::family(out, "mcp_server_operation_duration_seconds", "histogram",
               "MCP request or notification duration as observed by the proxy in front of the server, from receipt until the "
               "result (OpenTelemetry mcp.server.operation.duration).");
  for (const auto& [labels, histogram] : durations_)
    histogram.render(out, "mcp_server_operation_duration_seconds", labels);
  prom::family(out, "mcp_client_operation_duration_seconds", "histogram",
               "MCP request or notification duration as observed by the proxy calling for the agent, from sending until "
               "the answer (OpenTelemetry mcp.client.operation.duration).");
  for (const auto& [labels, histogram] : client_durations_)
    histogram.render(out, "mcp_client_operation_duration_seconds", labels);
  const std::string refusals = "tollway_" + role_ + "_mcp_refusals_total";
  prom::family(out, refusals, "counter",
               "MCP calls answered by the proxy itself instead of forwarding, by reason (forbidden, "
               "invalid_mcp_request, no_identity).");
  for (const auto& [reason, count] : refusals_)
    prom::sample(out, refusals, prom::labels({{"reason", reason}}), count);
}

}  // namespace tollway::mcp
