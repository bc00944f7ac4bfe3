#include "sidecar/filters.h"

#include "core/log.h"
#include "http/authority.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

bool rule_matches(const AuthorizationRule& rule, const tls::SpiffeId& caller, const http::RequestHead& head) {
  bool from = false;
  for (const auto& pattern : rule.from) from = from || pattern.matches(caller);
  if (!from) return false;
  if (!rule.methods.empty()) {
    bool method = false;
    for (const auto& m : rule.methods) method = method || m == head.method;
    if (!method) return false;
  }
  if (!rule.path_prefixes.empty()) {
    bool path = false;
    for (const auto& p : rule.path_prefixes) path = path || head.path().starts_with(p);
    if (!path) return false;
  }
  return true;
}

void log_decision(const pipeline::RequestCtx& ctx, std::string_view caller, std::string_view callee,
                  std::string_view decision, int rule_line, bool audit) {
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("decision", decision)
      .field("source_spiffe_id", caller)
      .field("destination_spiffe_id", callee)
      .field("method", ctx.head->method)
      .field("path", ctx.head->path());
  if (rule_line > 0) w.field("rule_line", rule_line);
  if (audit) w.field("mode", "audit");
  log::info("authorization decision", w);
}

}  // namespace

asio::awaitable<pipeline::Verdict> InboundAuthorization::authenticate(pipeline::RequestCtx& ctx) {
  if (ctx.listener != kInboundListener) co_return pipeline::Verdict::Continue;
  const std::string caller = ctx.peer_identity != nullptr ? ctx.peer_identity->spiffe_id : std::string();
  const auto caller_id = tls::SpiffeId::parse(caller);
  if (!caller_id) {
    log_decision(ctx, caller, own_spiffe_id_, "deny", 0, false);
    co_return pipeline::reply_error(ctx, 403, "the caller's certificate carries no SPIFFE ID", "no_identity");
  }
  bool any_allow = false;
  for (const auto& rule : rules_) {
    if (rule.action == AuthorizationRule::Action::Allow && !rule.audit) any_allow = true;
    if (rule.action != AuthorizationRule::Action::Deny || !rule_matches(rule, *caller_id, *ctx.head)) continue;
    log_decision(ctx, caller, own_spiffe_id_, "deny", rule.line, rule.audit);
    if (!rule.audit)
      co_return pipeline::reply_error(ctx, 403, caller + " may not call " + own_spiffe_id_ + " (denied by rule)",
                                      "forbidden");
  }
  for (const auto& rule : rules_) {
    if (rule.action != AuthorizationRule::Action::Allow || !rule_matches(rule, *caller_id, *ctx.head)) continue;
    log_decision(ctx, caller, own_spiffe_id_, "allow", rule.line, rule.audit);
    if (!rule.audit) co_return pipeline::Verdict::Continue;
  }
  if (any_allow) {
    log_decision(ctx, caller, own_spiffe_id_, "deny", 0, false);
    co_return pipeline::reply_error(ctx, 403, caller + " may not call " + own_spiffe_id_ + " (no rule allows it)",
                                    "forbidden");
  }
  log_decision(ctx, caller, own_spiffe_id_, "allow", 0, false);
  co_return pipeline::Verdict::Continue;
}

pipeline::Verdict PeerRoute::select_tunnel(pipeline::RequestCtx& ctx) const {
  std::string_view why;
  const auto authority = http::parse_authority(ctx.head->authority, why);  // the parser checked it: HOST:PORT
  std::string host = authority ? http::lowercase_host(authority->host) : std::string();
  if (!authority || config_->find_egress(host, authority->port) == nullptr)
    return pipeline::reply_error(ctx, 403,
                                 "CONNECT to " + std::string(ctx.head->authority) + " is not allowed (not in egress.allow)",
                                 "egress_denied");
  ctx.upstream.tunnel = pipeline::TunnelTarget{std::move(host), authority->port};
  ctx.upstream.provider = std::string(kEgressDestination);
  return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> PeerRoute::select_upstream(pipeline::RequestCtx& ctx) {
  if (ctx.listener == kInboundListener) {
    ctx.upstream.endpoint = &upstreams_.agent;
    ctx.upstream.provider = "agent";
    co_return pipeline::Verdict::Continue;
  }
  if (ctx.upstream.endpoint != nullptr) co_return pipeline::Verdict::Continue;  // an LLM call, GatewayRoute's
  const http::RequestHead& head = *ctx.head;
  if (head.method == "CONNECT") co_return select_tunnel(ctx);
  if (head.authority.empty())
    co_return pipeline::reply_error(
        ctx, 400, "the outbound listener is a forward proxy: send absolute-form targets (http://PEER/path)",
        "not_a_proxy_request");
  std::string_view why;
  const auto authority = http::parse_authority(head.authority, why);
  const PeerConfig* peer = authority ? config_->find_peer(authority->host) : nullptr;
  if (peer == nullptr)
    co_return pipeline::reply_error(ctx, 403, std::string(head.authority) + " is not a peer in the service directory",
                                    "egress_denied");
  const std::size_t index = static_cast<std::size_t>(peer - config_->peers.data());
  ctx.upstream.endpoint = &upstreams_.peers[index];
  ctx.upstream.provider = peer->name;
  co_return pipeline::Verdict::Continue;
}

void PeerRoute::log(const pipeline::RequestCtx& ctx) {
  if (ctx.listener != kOutboundListener || ctx.head->method != "CONNECT") return;
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("target", ctx.head->authority)
      .field("source_spiffe_id", config_->spiffe_id)
      .field("status", ctx.outcome.status)
      .field("bytes_from_agent", ctx.outcome.tunneled_from_client)
      .field("bytes_to_agent", ctx.outcome.tunneled_to_client)
      .field("duration_ms", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::chrono::steady_clock::now() - ctx.started)
                                                     .count()));
  if (!ctx.outcome.error_code.empty()) w.field("error", ctx.outcome.error_code);
  if (ctx.outcome.status == 200)
    log::info("egress tunnel", w);
  else
    log::warn("egress refused", w);
}

asio::awaitable<pipeline::Verdict> PeerRoute::shape_upstream(pipeline::RequestCtx& ctx) {
  const http::RequestHead& head = *ctx.head;
  if (ctx.listener == kOutboundListener && head.authority.empty()) co_return pipeline::Verdict::Continue;  // LLM call
  ctx.upstream.target = std::string(head.target);
  if (ctx.listener == kInboundListener) {
    const auto host = head.find("host");
    ctx.upstream.host_header = host ? std::string(*host) : ctx.upstream.endpoint->host;
    ctx.upstream.set_headers.emplace_back(std::string(kCallerHeader), ctx.peer_identity->spiffe_id);
  } else {
    ctx.upstream.host_header = std::string(head.authority);
    ctx.upstream.drop_headers.push_back(std::string(kCallerHeader));
  }
  co_return pipeline::Verdict::Continue;
}

}  // namespace tollway::sidecar
