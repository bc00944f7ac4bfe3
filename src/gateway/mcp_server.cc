#include "gateway/mcp_server.h"

#include <chrono>

#include "core/glob.h"
#include "limits/policy.h"

namespace tollway::gateway {
namespace {

// True when `value` matches one of `patterns`, or no pattern is listed.
bool listed(const std::vector<std::string>& patterns, std::string_view value) {
  if (patterns.empty()) return true;
  for (const auto& pattern : patterns)
    if (glob_match(pattern, value)) return true;
  return false;
}

bool from_matches(const config::McpCallerMatch& from, const pipeline::Caller& caller) {
  return listed(from.tenants, caller.tenant) && listed(from.agent_groups, caller.agent_group) &&
         listed(from.agents, caller.agent) && listed(from.keys, caller.key_id);
}

std::string caller_name(const pipeline::Caller& caller) {
  std::string name = "caller " + caller.key_id;
  if (!caller.tenant.empty()) name += " of tenant " + caller.tenant;
  if (!caller.agent.empty()) name += " (agent " + caller.agent + ")";
  return name;
}

}  // namespace

const config::McpServerConfig* mcp_server_at(const config::GatewayConfig& config, std::string_view path) {
  for (const auto& server : config.mcp.servers)
    if (server.path == path) return &server;
  return nullptr;
}

GatewayMcpPolicy::GatewayMcpPolicy(std::shared_ptr<const config::GatewayConfig> config) : config_(std::move(config)) {
  for (const auto& server : config_->mcp.servers) servers_.push_back({server.name, server.max_message_bytes});
}

const mcp::McpServerRef* GatewayMcpPolicy::server(const pipeline::RequestCtx& ctx) const {
  const config::McpServerConfig* server = mcp_server_at(*config_, ctx.head->path());
  return server != nullptr ? &servers_[static_cast<std::size_t>(server - config_->mcp.servers.data())] : nullptr;
}

std::optional<mcp::McpCaller> GatewayMcpPolicy::caller(const pipeline::RequestCtx& ctx,
                                                       const mcp::McpServerRef& server, std::string& why) const {
  if (!ctx.caller.authenticated) {
    why = "the call is not authenticated";
    return std::nullopt;
  }
  const std::size_t index = static_cast<std::size_t>(&server - servers_.data());
  mcp::McpCaller caller;
  caller.name = caller_name(ctx.caller);
  caller.log_fields = {{"tenant", ctx.caller.tenant},
                       {"agent_group", ctx.caller.agent_group},
                       {"agent", ctx.caller.agent},
                       {"key_id", ctx.caller.key_id}};
  caller.decide = [config = config_, index, who = ctx.caller](mcp::TargetKind kind, std::string_view target) {
    const auto& rules = config->mcp.servers[index].rules;
    return mcp::decide_mcp_rules(rules, kind, target,
                                 [&](const config::GatewayMcpRule& rule) { return from_matches(rule.from, who); });
  };
  return caller;
}

asio::awaitable<pipeline::Verdict> McpServerRoute::select_upstream(pipeline::RequestCtx& ctx) {
  const config::McpServerConfig* server = mcp_server_at(*config_, ctx.head->path());
  if (server == nullptr) co_return pipeline::Verdict::Continue;
  ctx.upstream.endpoint = &endpoints_[static_cast<std::size_t>(server - config_->mcp.servers.data())];
  ctx.upstream.provider = "mcp:" + server->name;
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> McpServerRoute::shape_upstream(pipeline::RequestCtx& ctx) {
  const config::McpServerConfig* server = mcp_server_at(*config_, ctx.head->path());
  if (server == nullptr) co_return pipeline::Verdict::Continue;
  const std::string_view target = ctx.head->target;
  const std::size_t query = target.find('?');
  ctx.upstream.target = server->endpoint.path_prefix;
  if (query != std::string_view::npos) ctx.upstream.target.append(target.substr(query));
  const bool default_port = server->endpoint.port == (server->endpoint.tls ? 443 : 80);
  const bool ipv6 = server->endpoint.host.find(':') != std::string::npos;
  ctx.upstream.host_header = ipv6 ? "[" + server->endpoint.host + "]" : server->endpoint.host;
  if (!default_port) ctx.upstream.host_header += ":" + std::to_string(server->endpoint.port);
  ctx.upstream.drop_headers.insert(ctx.upstream.drop_headers.end(),
                                   {"authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"});
  for (const auto& [name, value] : server->headers) ctx.upstream.set_headers.emplace_back(name, value);
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> McpToolLimits::admit(pipeline::RequestCtx& ctx) {
  const config::McpServerConfig* server = mcp_server_at(*config_, ctx.head->path());
  const mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (server == nullptr || server->limits.empty() || rpc == nullptr || !rpc->active)
    co_return pipeline::Verdict::Continue;
  std::vector<limits::Counter> counters;
  std::vector<const config::McpToolLimit*> rules;
  std::vector<std::string_view> tools;
  for (const auto& call : rpc->calls) {
    if (!call.tool) continue;
    for (const auto& limit : server->limits) {
      if (!listed(limit.tools, call.target)) continue;
      limits::Counter& c = counters.emplace_back();
      c.key = "mcp|" + server->name + "|" + limit.name;
      if (limit.per_tool) limits::append_key_value(c.key, call.target);
      if (limit.per_tenant) limits::append_key_value(c.key, ctx.caller.tenant);
      if (limit.per_agent) limits::append_key_value(c.key, ctx.caller.agent);
      if (limit.per_key) limits::append_key_value(c.key, ctx.caller.key_id);
      c.algorithm = limits::CounterAlgorithm::Gcra;
      c.limit = limit.limit;
      c.window_ms = limit.window.count();
      rules.push_back(&limit);
      tools.push_back(call.target);
    }
  }
  if (counters.empty()) co_return pipeline::Verdict::Continue;
  const std::vector<int64_t> amounts(counters.size(), 1);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const limits::ReserveResult result = ledger_.reserve_now(counters, amounts, now_ms);
  if (result.admitted) co_return pipeline::Verdict::Continue;
  std::size_t denied = 0;
  while (denied + 1 < result.states.size() && !result.states[denied].would_deny) ++denied;
  const config::McpToolLimit& limit = *rules[denied];
  const int64_t seconds = std::max<int64_t>(1, (result.states[denied].retry_after_ms + 999) / 1000);
  ctx.response_headers.emplace_back("retry-after", std::to_string(seconds));
  std::string message = "MCP server " + server->name + ": limit \"" + limit.name + "\" exceeded by tool \"" +
                        std::string(tools[denied]) + "\" (" + std::to_string(limit.limit) + " calls per " +
                        std::to_string(limit.window.count() / 1000) + "s); retry after " + std::to_string(seconds) +
                        "s";
  ctx.decision = {true, std::string(name()), limit.name, message, {}};
  co_return mcp::reply_rpc_error(ctx, mcp::rpc_error_status(rpc, 429), mcp::kRateLimited, std::move(message),
                                 "rate_limit_exceeded", kMcpErrorType);
}

}  // namespace tollway::gateway
