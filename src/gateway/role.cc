#include "gateway/role.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "config/loader.h"
#include "core/json.h"
#include "gateway/assembly.h"
#include "gateway/mcp_server.h"
#include "gateway/route_match.h"
#include "providers/routing/route_choice.h"
#include "providers/catalogue/catalogue.h"
#include "providers/error_body.h"

namespace tollway::gateway {

namespace asio = boost::asio;

void GatewayRole::attach(proxy::EngineServices& services) {
  services_.engine = &services;
}

proxy::PrepareResult GatewayRole::prepare(const proxy::ConfigDocument& document,
                                          const pipeline::Snapshot* active) {
  proxy::PrepareResult result;
  auto loaded = config::parse_gateway_config(document.bytes, document.origin);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) result.errors.push_back(e.to_string());
    return result;
  }
  for (const auto& w : loaded.warnings) result.warnings.push_back(w.to_string());
  auto config = std::make_shared<const config::GatewayConfig>(std::move(*loaded.config));
  if (active != nullptr) {
    result.errors = restart_only_changes(gateway_config_of(*active), *config);
    if (!result.errors.empty()) return result;
  }
  std::string error;
  auto snapshot = prepare_snapshot(std::move(config), error);
  if (!snapshot) {
    result.errors.push_back(document.origin + ": " + error);
    return result;
  }
  result.prepared = proxy::PreparedSnapshot{std::move(snapshot)};
  return result;
}

std::shared_ptr<const pipeline::Snapshot> GatewayRole::commit(proxy::PreparedSnapshot prepared,
                                                              std::string& error) {
  if (!commit_snapshot(static_cast<GatewaySnapshot&>(*prepared.snapshot), services_, error)) {
    error = prepared.snapshot->source + ": " + error;
    return nullptr;
  }
  if (services_.telemetry && services_.telemetry->exporting() && !exporting_metrics_) {
    exporting_metrics_ = true;
    asio::co_spawn(*services_.engine->control, export_metrics(), asio::detached);
  }
  return prepared.snapshot;
}

proxy::RequestTarget GatewayRole::classify(const pipeline::Snapshot& snapshot, const http::RequestHead& head,
                                           pipeline::RequestCtx& ctx) const {
  const config::GatewayConfig& config = gateway_config_of(snapshot);
  // The model catalogue is the gateway's own, whatever route would match the path.
  if (head.method == "GET" && providers::is_catalogue_path(head.path())) {
    for (const auto& e : snapshot.local_endpoints)
      if (e.path == kCataloguePath) return {proxy::RequestTarget::Kind::Local, &e, e.max_body};
  }
  if (const config::McpServerConfig* server = mcp_server_at(config, head.path())) {
    ctx.features.get<mcp::RpcInfo>().server = server->name;  // its errors are JSON-RPC ones from here on
    const auto& gateway = static_cast<const GatewaySnapshot&>(snapshot);
    return {proxy::RequestTarget::Kind::Proxied, nullptr, server->max_message_bytes, &gateway.mcp_chain};
  }
  const config::RouteConfig* route = match_route(config, head.path());
  ctx.api = route ? route->api : providers::guess_api(head.path(), head.find("anthropic-version").has_value());
  if (route != nullptr) {
    ctx.features.get<providers::RouteChoice>().route = route;
    ctx.route_name = route->path;
    return {proxy::RequestTarget::Kind::Proxied, nullptr, route->max_body};
  }
  for (const auto& e : snapshot.local_endpoints)
    if (e.path == head.path()) return {proxy::RequestTarget::Kind::Local, &e, e.max_body};
  ctx.reply.status = 404;
  ctx.outcome.error_code = "unknown_route";
  ctx.outcome.error = "Unknown route: " + std::string(head.method) + " " + std::string(head.path()) +
                      ". This gateway serves the OpenAI API under /v1/ (chat/completions, completions, "
                      "responses, embeddings, models) and the Anthropic API at /v1/messages.";
  return {};
}

std::string GatewayRole::error_body(const pipeline::RequestCtx* ctx, std::string_view path, int status,
                                    std::string_view message, std::string_view code) const {
  const mcp::RpcInfo* rpc = ctx != nullptr ? ctx->features.find<mcp::RpcInfo>() : nullptr;
  if (rpc != nullptr && !rpc->server.empty()) {  // a request to an MCP server: a JSON-RPC error
    json::ObjectWriter data;
    data.field("type", kMcpErrorType).field("code", code).field("status", status);
    int rpc_code = mcp::kInternalError;
    if (status == 401 || status == 403) rpc_code = mcp::kForbidden;
    if (status == 429) rpc_code = mcp::kRateLimited;
    return mcp::rpc_error_reply(*rpc, rpc_code, message, std::move(data).finish());
  }
  const config::Api api = ctx != nullptr ? ctx->api : providers::guess_api(path, false);
  return providers::error_body(api, status, message, code);
}

int GatewayRole::error_status(const pipeline::RequestCtx& ctx, int status) const {
  return mcp::rpc_error_status(ctx.features.find<mcp::RpcInfo>(), status);
}

void GatewayRole::reopen_logs() {
  // The access and decision log files are reopened by the telemetry thread.
  if (services_.telemetry) services_.telemetry->reopen_logs();
}

// Cumulative since the start; the exporter sends the latest offer.
asio::awaitable<void> GatewayRole::export_metrics() {
  const auto unix_nano = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
  const uint64_t start = unix_nano();
  asio::steady_timer timer(*services_.engine->control);
  while (true) {
    timer.expires_after(services_.telemetry->settings().otlp.metrics_interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || draining_) co_return;
    const telemetry::RequestMetrics total = co_await services_.engine->merged_request_metrics();
    std::vector<telemetry::Metric> metrics;
    total.calls().append_otlp(metrics, start, unix_nano());
    services_.telemetry->offer_metrics(std::move(metrics));
  }
}

void GatewayRole::on_drain() {
  draining_ = true;
}

}  // namespace tollway::gateway
