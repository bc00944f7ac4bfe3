#include "sidecar/a2a_filter.h"

#include <chrono>

#include "a2a/call.h"
#include "a2a/card.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "http/sse.h"
#include "mcp/edit.h"
#include "sidecar/filters.h"
#include "sidecar/mcp_filter.h"
#include "telemetry/trace_info.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<tls::SpiffeId> caller_of(const pipeline::RequestCtx& ctx) {
  return tls::SpiffeId::parse(ctx.peer_identity ? ctx.peer_identity->spiffe_id : std::string());
}

std::string_view header(const http::ResponseHead& head, std::string_view name) {
  for (const auto& h : head.headers)
    if (http::iequals(h.name, name)) return h.value;
  return {};
}

void log_decision(const pipeline::RequestCtx& ctx, const SidecarConfig& config, const a2a::Call& call,
                  std::string_view skill, std::string_view decision, int rule_line, bool audit) {
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("decision", decision)
      .field("source_spiffe_id", ctx.peer_identity ? std::string_view(ctx.peer_identity->spiffe_id) : "")
      .field("destination_spiffe_id", config.spiffe_id)
      .field("a2a_agent", config.a2a.agent)
      .field("a2a_method", call.method);
  if (!skill.empty()) w.field("skill", skill);
  if (rule_line > 0) w.field("rule_line", rule_line);
  if (audit) w.field("mode", "audit");
  log::info("authorization decision", w);
}

// The agent card, held whole and passed on with the skills the caller may use.
class CardReader final : public pipeline::ResponseBodyTransformer {
 public:
  CardReader(std::shared_ptr<const SidecarConfig> config, tls::SpiffeId caller, A2aRuntime& runtime,
             bool encoded)
      : config_(std::move(config)), caller_(std::move(caller)), runtime_(runtime), unreadable_(encoded) {}

  void transform(std::string_view in, bool last, std::string& out) override {
    if (done_) return;
    if (!unreadable_) held_.append(in);
    if (held_.size() > config_->a2a.max_message_bytes) unreadable_ = true;
    if (!last && !unreadable_) return;
    done_ = true;
    std::string filtered;
    const auto keep = [&](std::string_view skill) {
      return decide_a2a_skill(config_->a2a, caller_, skill).allowed;
    };
    const a2a::CardFilter result =
        unreadable_ ? a2a::CardFilter::Unreadable
                    : a2a::filter_card_text(held_, config_->a2a.max_message_bytes, keep, filtered);
    switch (result) {
      case a2a::CardFilter::Unchanged:
        runtime_.count_card("unchanged");
        out += held_;
        break;
      case a2a::CardFilter::Filtered:
        runtime_.count_card("filtered");
        out += filtered;
        break;
      case a2a::CardFilter::Unreadable: {
        runtime_.count_card("unreadable");
        json::ObjectWriter error;
        error.field("message", "the agent's card could not be read, so it was not passed on")
            .field("type", kRpcErrorType)
            .field("code", "unreadable_agent_card");
        json::ObjectWriter body;
        body.raw_field("error", std::move(error).finish());
        out += std::move(body).finish();
        break;
      }
    }
    held_.clear();
  }
  bool changes_length() const override { return true; }

 private:
  std::shared_ptr<const SidecarConfig> config_;
  tls::SpiffeId caller_;
  A2aRuntime& runtime_;
  bool unreadable_;  // compressed, or longer than max_message_bytes
  bool done_ = false;
  std::string held_;
};

// The agent's answer to one call: a JSON body (held whole only when it is an extended card to filter) or an
// SSE stream, read for the call's task, context and outcome and passed on as it came.
class A2aResponseReader final : public pipeline::ResponseBodyTransformer {
 public:
  A2aResponseReader(std::shared_ptr<const SidecarConfig> config, tls::SpiffeId caller,
                    mcp::RpcCall& call, bool sse, bool extended_card)
      : config_(std::move(config)),
        caller_(std::move(caller)),
        call_(call),
        sse_(sse),
        card_(extended_card) {}

  void transform(std::string_view in, bool last, std::string& out) override {
    if (sse_) {
      out.append(in);
      reader_.feed(in, [&](const http::SseEvent& event) {
        if (!event.data.empty() && event.type == "message") read_message(event.data, nullptr);
      });
      return;
    }
    if (overflow_) {
      out.append(in);
      return;
    }
    held_.append(in);
    if (held_.size() > config_->a2a.max_message_bytes) {
      if (card_) {  // an extended card that cannot be read is never passed on
        out += unreadable_card();
        card_ = false;
        discard_ = true;
      }
      if (!discard_) out += held_;
      held_.clear();
      overflow_ = true;
      return;
    }
    if (!last) return;
    std::string filtered;
    read_message(held_, card_ ? &filtered : nullptr);
    out += card_ ? filtered : held_;
  }
  bool changes_length() const override { return card_; }

 private:
  // One JSON-RPC response message: records the call's outcome, task and context; with `card`, the message
  // with its result's skills filtered (an error message when the card cannot be read).
  void read_message(std::string_view text, std::string* card) {
    mcp::ReadError error;
    auto envelope = mcp::read_envelope(text, error, {config_->a2a.max_message_bytes, 64});
    const mcp::Message* m = envelope && !envelope->batch && envelope->messages.size() == 1
                                ? &envelope->messages.front()
                                : nullptr;
    if (m == nullptr || m->id_key != call_.id_key ||
        (m->kind != mcp::Message::Kind::Result && m->kind != mcp::Message::Kind::Error)) {
      if (card != nullptr) *card = unreadable_card();
      return;
    }
    call_.answered = Clock::now();
    if (m->kind == mcp::Message::Kind::Error) {
      call_.error_type = std::to_string(m->error->find("code")->as_int());
      if (card != nullptr) card->assign(text);
      return;
    }
    const a2a::TaskRef ref = a2a::task_ref(*m->result);
    if (call_.task_id.empty()) call_.task_id = ref.task_id;
    if (call_.context_id.empty()) call_.context_id = ref.context_id;
    if (card == nullptr) return;
    std::string filtered;
    const auto keep = [&](std::string_view skill) {
      return decide_a2a_skill(config_->a2a, caller_, skill).allowed;
    };
    switch (a2a::filter_card(text, *m->result, keep, filtered)) {
      case a2a::CardFilter::Unchanged:
        card->assign(text);
        break;
      case a2a::CardFilter::Filtered:
        card->assign(text.substr(0, m->result->begin()));
        *card += filtered;
        card->append(text.substr(m->result->end()));
        break;
      case a2a::CardFilter::Unreadable:
        *card = unreadable_card();
        break;
    }
  }

  std::string unreadable_card() {
    call_.error_type = "unreadable_agent_card";
    return mcp::error_response(call_.id, mcp::kInternalError,
                               "the agent's extended card could not be read, so it was not passed on");
  }

  std::shared_ptr<const SidecarConfig> config_;
  tls::SpiffeId caller_;
  mcp::RpcCall& call_;
  bool sse_;
  bool card_;
  bool overflow_ = false;  // a body too long to read: passed on unread (unless it was a card)
  bool discard_ = false;   // an extended card could not be read: its error was sent, nothing more is
  std::string held_;
  http::SseReader reader_;
};

}  // namespace

bool A2aGuard::is_card_request(const pipeline::RequestCtx& ctx) const {
  if (ctx.listener != kInboundListener || !config_->a2a.enabled) return false;
  if (ctx.head->method != "GET" && ctx.head->method != "HEAD") return false;
  const std::string_view path = ctx.head->path();
  return path == kAgentCardPath || path == kLegacyAgentCardPath;
}

bool A2aGuard::is_rpc_request(const pipeline::RequestCtx& ctx) const {
  if (ctx.listener != kInboundListener || !config_->a2a.enabled || ctx.head->method != "POST") return false;
  const std::string_view path = ctx.head->path();
  for (const auto& p : config_->a2a.paths)
    if (path == p) return true;
  return false;
}

pipeline::Verdict A2aGuard::refuse(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                                   std::string_view reason) const {
  runtime_.count_refusal(reason);
  return mcp::reply_rpc_error(ctx, status, code, std::move(message), reason, kRpcErrorType);
}

asio::awaitable<pipeline::Verdict> A2aGuard::authorize(pipeline::RequestCtx& ctx) {
  if (is_card_request(ctx)) {
    if (!caller_of(ctx)) {
      runtime_.count_refusal("no_identity");
      co_return pipeline::reply_error(ctx, 403, "the caller's certificate carries no SPIFFE ID",
                                      "no_identity");
    }
    co_return pipeline::Verdict::Continue;
  }
  if (!is_rpc_request(ctx)) co_return pipeline::Verdict::Continue;
  mcp::RpcInfo& info = ctx.features.get<mcp::RpcInfo>();
  info.protocol = mcp::RpcInfo::Protocol::A2a;
  info.server = config_->a2a.agent;
  for (const auto& h : ctx.head->headers)
    if (http::iequals(h.name, "a2a-version")) info.protocol_version = std::string(h.value);

  mcp::ReadError error;
  auto envelope = mcp::read_envelope(ctx.body, error, {config_->a2a.max_message_bytes, 64});
  if (!envelope) co_return refuse(ctx, 400, error.code, error.message, "invalid_a2a_request");
  if (envelope->batch)
    co_return refuse(ctx, 400, mcp::kInvalidRequest, "A2A sends one JSON-RPC request per body, not a batch",
                     "invalid_a2a_request");
  const mcp::Message& m = envelope->messages.front();
  if (m.kind != mcp::Message::Kind::Request)
    co_return refuse(ctx, 400, mcp::kInvalidRequest, "an A2A body is a JSON-RPC request with an id",
                     "invalid_a2a_request");
  info.active = true;
  mcp::RpcCall& rpc_call = info.calls.emplace_back();
  rpc_call.method = m.method;
  rpc_call.id = m.id;
  rpc_call.id_key = m.id_key;
  // Its span continues the hop's (and the agent continues it): refused calls are traced too.
  if (const auto* trace = ctx.features.find<telemetry::TraceInfo>(); trace != nullptr && trace->established)
    rpc_call.span = telemetry::child_context(trace->server).span_id;
  a2a::Call call;
  std::string why;
  if (!a2a::read_call(m, call, why))
    co_return refuse(ctx, 200, mcp::kInvalidParams, std::move(why), "invalid_a2a_request");
  const bool message = call.kind == a2a::MethodKind::Send || call.kind == a2a::MethodKind::Stream;
  rpc_call.message = message;
  rpc_call.task_id = call.task_id;
  rpc_call.context_id = call.context_id;
  if (message) rpc_call.target = call.skill ? *call.skill : config_->a2a.default_skill;

  const auto caller = caller_of(ctx);
  if (!caller)
    co_return refuse(ctx, 403, a2a::kRefused, "the caller's certificate carries no SPIFFE ID", "no_identity");
  A2aDecision d;
  if (message) {
    std::optional<std::string_view> skill;
    if (call.skill) skill = *call.skill;
    d = decide_a2a_skill(config_->a2a, *caller, skill);
  } else {
    d = decide_a2a_identity(config_->a2a, *caller);
  }
  if (d.audit_line > 0)
    log_decision(ctx, *config_, call, rpc_call.target, d.allowed ? "deny" : "allow", d.audit_line, true);
  log_decision(ctx, *config_, call, rpc_call.target, d.allowed ? "allow" : "deny", d.rule_line, false);
  if (!d.allowed) {
    const std::string& who = ctx.peer_identity->spiffe_id;
    std::string reason;
    std::string_view code = "forbidden";
    if (d.needs_skill) {
      reason = call.method + " names no skill (params.message.metadata." + std::string(a2a::kSkillKey) +
               ") and the rules for " + who + " on A2A agent " + config_->a2a.agent + " depend on it";
      code = "skill_required";
    } else if (message) {
      reason = who + " may not use skill \"" + rpc_call.target + "\" of A2A agent " + config_->a2a.agent;
    } else {
      reason = who + " may not call " + call.method + " of A2A agent " + config_->a2a.agent;
    }
    if (!d.needs_skill) reason += d.rule_line > 0 ? " (denied by rule)" : " (no rule allows it)";
    ctx.decision = {true,
                    std::string(name()),
                    rpc_call.target.empty() ? call.method : call.method + " " + rpc_call.target,
                    reason,
                    {}};
    rpc_call.error_type = std::string(code);
    co_return refuse(ctx, 200, a2a::kRefused, std::move(reason), code);
  }
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> A2aGuard::shape_upstream(pipeline::RequestCtx& ctx) {
  if (!is_card_request(ctx)) co_return pipeline::Verdict::Continue;
  for (const std::string_view h :
       {"accept-encoding", "range", "if-range", "if-none-match", "if-modified-since"})
    ctx.upstream.drop_headers.emplace_back(h);
  co_return pipeline::Verdict::Continue;
}

std::unique_ptr<pipeline::ResponseBodyTransformer> A2aGuard::response_body(pipeline::RequestCtx& ctx,
                                                                           const http::ResponseHead& head) {
  if (head.status != 200) return nullptr;
  auto caller = caller_of(ctx);
  if (!caller) return nullptr;  // authorize refused it
  const std::string_view encoding = header(head, "content-encoding");
  if (is_card_request(ctx) && ctx.head->method == "GET")
    return std::make_unique<CardReader>(config_, std::move(*caller), runtime_,
                                        !encoding.empty() && !http::iequals(encoding, "identity"));
  mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (rpc == nullptr || !rpc->active || rpc->protocol != mcp::RpcInfo::Protocol::A2a || rpc->calls.size() != 1)
    return nullptr;
  mcp::RpcCall& call = rpc->calls.front();
  const bool card = a2a::method_kind(call.method) == a2a::MethodKind::ExtendedCard;
  const std::string_view type = header(head, "content-type");
  const bool sse = type.starts_with("text/event-stream");
  if (!sse && !type.starts_with("application/json")) {
    if (!card) return nullptr;
    return std::make_unique<CardReader>(config_, std::move(*caller), runtime_,
                                        true);  // never passed on unread
  }
  return std::make_unique<A2aResponseReader>(config_, std::move(*caller), call, sse, card);
}

void A2aRuntime::count_refusal(std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++refusals_[std::string(reason)];
}

void A2aRuntime::count_card(std::string_view result) {
  std::lock_guard lock(mutex_);
  ++cards_[std::string(result)];
}

void A2aRuntime::render_metrics(std::string& out) const {
  namespace prom = core::prometheus;
  std::lock_guard lock(mutex_);
  prom::family(
      out, "tollway_sidecar_a2a_refusals_total", "counter",
      "A2A calls the sidecar answered itself instead of forwarding, by reason (forbidden, skill_required, "
      "invalid_a2a_request, no_identity).");
  for (const auto& [reason, count] : refusals_)
    prom::sample(out, "tollway_sidecar_a2a_refusals_total", prom::labels({{"reason", reason}}), count);
  prom::family(
      out, "tollway_sidecar_a2a_agent_cards_total", "counter",
      "Agent cards passed to callers, by what filtering the skills did (unchanged, filtered, unreadable).");
  for (const auto& [result, count] : cards_)
    prom::sample(out, "tollway_sidecar_a2a_agent_cards_total", prom::labels({{"result", result}}), count);
}

}  // namespace tollway::sidecar
