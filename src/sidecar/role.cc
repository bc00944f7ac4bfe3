#include "sidecar/role.h"

#include <boost/asio/ssl/context.hpp>

#include "core/json.h"
#include "sidecar/gateway_route.h"
#include "a2a/call.h"
#include "mcp/edit.h"
#include "tls/client_context.h"
#include "sidecar/trace_filter.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

// The paths in the document resolve against its directory, like the gateway's.
std::string resolve(const std::string& origin, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const auto slash = origin.rfind('/');
  return slash == std::string::npos ? path : origin.substr(0, slash + 1) + path;
}

}  // namespace

void SidecarRole::attach(proxy::EngineServices& services) {
  control_ = services.control;
  services.metrics.push_back([this](std::string& out) { limit_state_.render_metrics(out); });
  services.metrics.push_back([this](std::string& out) { hop_runtime_.render_metrics(out); });
  services.metrics.push_back([this](std::string& out) { mcp_runtime_.render_metrics(out); });
  services.metrics.push_back([this](std::string& out) { a2a_runtime_.render_metrics(out); });
}

proxy::PrepareResult SidecarRole::prepare(const proxy::ConfigDocument& document, const pipeline::Snapshot* active) {
  proxy::PrepareResult result;
  auto loaded = parse_sidecar_config(document.bytes, document.origin);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) result.errors.push_back(e.to_string());
    return result;
  }
  auto config = std::make_shared<const SidecarConfig>(std::move(*loaded.config));
  if (active != nullptr) {
    const auto& running = *static_cast<const SidecarSnapshot&>(*active).config;
    if (running.spiffe_id != config->spiffe_id)
      result.errors.push_back("sidecar.spiffe_id: changes need a restart (running " + running.spiffe_id + ")");
    if (!result.errors.empty()) return result;
  }
  auto snapshot = std::make_shared<SidecarSnapshot>();
  snapshot->config = config;
  snapshot->version = config->version;
  snapshot->source = config->source;
  pipeline::ServingSettings& serving = snapshot->serving;
  serving.admin = config->admin;
  serving.workers = config->workers;
  serving.limits = config->limits;
  serving.timeouts = config->timeouts;
  if (config->node_identity && config->cert_file.empty()) {
    // Checked for another node (the control plane, `tollway validate`): its SVID is on that node, so the check
    // ends here. A running sidecar always has the files or has failed to parse.
    result.prepared = proxy::PreparedSnapshot{std::move(snapshot)};
    return result;
  }
  const std::string cert = resolve(document.origin, config->cert_file);
  const std::string key = resolve(document.origin, config->key_file);
  const std::string bundle = resolve(document.origin, config->bundle_file);
  std::optional<tls::ServerTlsError> server_error;
  auto inbound_tls = tls::load_server_tls({cert, key, bundle, true, config->trust_domain}, server_error);
  if (!inbound_tls) {
    result.errors.push_back(document.origin + ": sidecar.tls: " + server_error->message);
    return result;
  }
  // The certificate must be this agent's: a sidecar presenting another identity would be trusted as that one.
  {
    std::optional<tls::ClientTlsError> client_error;
    auto client = tls::make_client_context({bundle, cert, key}, client_error);
    if (!client) {
      result.errors.push_back(document.origin + ": sidecar.tls: " + client_error->message);
      return result;
    }
    X509* own = SSL_CTX_get0_certificate(inbound_tls->context->native_handle());
    const tls::PeerIdentity identity = tls::identity_of(own);
    if (identity.spiffe_id != config->spiffe_id) {
      result.errors.push_back(document.origin + ": sidecar.tls.cert_file: the certificate's SPIFFE ID is \"" +
                              identity.spiffe_id + "\", not sidecar.spiffe_id " + config->spiffe_id);
      return result;
    }
    for (const auto& peer : config->peers) {
      http::UpstreamEndpoint e;
      e.host = peer.address.host == "localhost" ? "127.0.0.1" : peer.address.host;
      e.port = peer.address.port;
      e.tls = true;
      e.tls_context = client;
      e.peer_spiffe_id = peer.spiffe_id;
      e.pool_key = "mtls://" + e.host + ":" + std::to_string(e.port) + "#" + peer.spiffe_id + "#" + snapshot->version;
      snapshot->endpoints.peers.push_back(std::move(e));
    }
    if (config->gateway) snapshot->gateway = gateway_endpoint(*config->gateway, client, snapshot->version);
  }
  snapshot->endpoints.agent.host = config->agent.host == "localhost" ? "127.0.0.1" : config->agent.host;
  snapshot->endpoints.agent.port = config->agent.port;
  snapshot->endpoints.agent.pool_key = "http://" + config->agent.to_string();
  serving.listeners.push_back({"outbound", "sidecar.outbound", config->outbound, nullptr, true});
  serving.listeners.push_back({"inbound", "sidecar.inbound", config->inbound, std::move(inbound_tls), false});
  result.prepared = proxy::PreparedSnapshot{std::move(snapshot)};
  return result;
}

std::shared_ptr<const pipeline::Snapshot> SidecarRole::commit(proxy::PreparedSnapshot prepared, std::string& error) {
  auto& snapshot = static_cast<SidecarSnapshot&>(*prepared.snapshot);
  if (snapshot.config->local_limits.leased) {
    if (!lease_source_ || control_ == nullptr) {
      error = "limits.ledger: leased needs a control plane: leases come from its POST /v1/usage (run the sidecar "
              "with --control)";
      return nullptr;
    }
    limit_state_.start_leased(lease_source_, *control_);
  }
  hop_runtime_.start_export(snapshot.config->telemetry);
  snapshot.chain.add<HopTrace>(snapshot.config, hop_runtime_);
  snapshot.chain.add<InboundAuthorization>(snapshot.config->authorization, snapshot.config->spiffe_id);
  if (snapshot.config->mcp.enabled) snapshot.chain.add<mcp::McpGuard>(std::make_shared<const SidecarMcpPolicy>(snapshot.config), mcp_runtime_);
  if (snapshot.config->mcp.endpoint)
    snapshot.chain.add<McpEndpoint>(snapshot.config, snapshot.endpoints, mcp_sessions_, mcp_runtime_);
  if (snapshot.config->a2a.enabled) snapshot.chain.add<A2aGuard>(snapshot.config, a2a_runtime_);
  if (!snapshot.config->local_limits.rules.empty()) snapshot.chain.add<LocalLimits>(snapshot.config, limit_state_);
  if (snapshot.gateway)
    snapshot.chain.add<GatewayRoute>(*snapshot.gateway, snapshot.config->gateway->address.to_string());
  snapshot.chain.add<PeerRoute>(snapshot.config, snapshot.endpoints);
  return prepared.snapshot;
}

proxy::RequestTarget SidecarRole::classify(const pipeline::Snapshot& snapshot, const http::RequestHead&,
                                           pipeline::RequestCtx&) const {
  return {proxy::RequestTarget::Kind::Proxied, nullptr, snapshot.serving.limits.max_body};
}

std::string SidecarRole::error_body(const pipeline::RequestCtx* ctx, std::string_view, int status,
                                    std::string_view message, std::string_view code) const {
  const mcp::RpcInfo* rpc = ctx != nullptr ? ctx->features.find<mcp::RpcInfo>() : nullptr;
  if (rpc != nullptr && rpc->active) {  // a JSON-RPC error for every request of the MCP or A2A call
    json::ObjectWriter data;
    data.field("type", kRpcErrorType).field("code", code).field("status", status);
    for (const auto& [name, value] : ctx->response_headers)
      if (name == "retry-after") data.field("retry_after_s", value);
    int rpc_code = mcp::kInternalError;
    if (rpc->protocol == mcp::RpcInfo::Protocol::A2a) {
      if (status == 429 || status == 403) rpc_code = a2a::kRefused;  // A2A's own codes start at -32001
    } else if (status == 429 || status == 403) {
      rpc_code = status == 429 ? mcp::kRateLimited : mcp::kForbidden;
    }
    return mcp::rpc_error_reply(*rpc, rpc_code, message, std::move(data).finish());
  }
  json::ObjectWriter error;
  error.field("message", message).field("type", kRpcErrorType).field("code", code);
  json::ObjectWriter body;
  body.raw_field("error", std::move(error).finish());
  return std::move(body).finish();
}

int SidecarRole::error_status(const pipeline::RequestCtx& ctx, int status) const {
  return mcp::rpc_error_status(ctx.features.find<mcp::RpcInfo>(), status);
}

}  // namespace tollway::sidecar
