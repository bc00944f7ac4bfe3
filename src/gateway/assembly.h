// The gateway's role assembly. prepare_snapshot builds what a config version needs without touching process
// state (serving settings, upstream endpoints and their TLS contexts, checks of what applying would need);
// commit_snapshot attaches the process-lifetime services the version uses and lists the gateway's filters in
// phase order. It only lists filters; no request logic.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "gateway/services.h"
#include "pipeline/snapshot.h"

namespace tollway::gateway {

// The local endpoint of the model catalogue (it also answers /v1/models/{id}).
inline constexpr std::string_view kCataloguePath = "/v1/models";

// A snapshot of the gateway: the engine's snapshot and the gateway document it was built from.
struct GatewaySnapshot final : pipeline::Snapshot {
  std::shared_ptr<const config::GatewayConfig> config;
  // The MCP servers of config->mcp.servers (same order): their endpoints, and the chain their requests run.
  std::vector<http::UpstreamEndpoint> mcp_endpoints;
  pipeline::Chain mcp_chain;
};

// The gateway's view of a snapshot the gateway role built.
inline const config::GatewayConfig& gateway_config_of(const pipeline::Snapshot& snapshot) {
  return *static_cast<const GatewaySnapshot&>(snapshot).config;
}

// Null and `error` set when something the validator cannot see fails (e.g. a CA file OpenSSL rejects).
std::shared_ptr<GatewaySnapshot> prepare_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                     std::string& error);

// The keys whose change a reload cannot apply (ledger, spend log, telemetry outputs, key store), with their
// key paths; empty when `next` may replace `running`.
std::vector<std::string> restart_only_changes(const config::GatewayConfig& running,
                                              const config::GatewayConfig& next);

// Attaches the services `snapshot` needs and builds its chain; false with `error` only when a store cannot be
// opened the first time it is needed.
bool commit_snapshot(GatewaySnapshot& snapshot, Services& services, std::string& error);

}  // namespace tollway::gateway
