#include "sidecar/call_destination.h"

#include "http/authority.h"
#include "sidecar/filters.h"
#include "sidecar/limit_config.h"

namespace tollway::sidecar {

CallDestination call_destination(const SidecarConfig& config, const pipeline::RequestCtx& ctx) {
  if (ctx.listener == kInboundListener) return {kLocalDestination, config.spiffe_id};
  const http::RequestHead& head = *ctx.head;
  if (head.method == "CONNECT") return {};
  if (head.authority.empty()) {
    const auto& mcp = config.mcp.endpoint;
    if (!config.gateway || (mcp && head.path() == mcp->path)) return {};  // the MCP endpoint: its own spans name peers
    return {kGatewayDestination, config.gateway->spiffe_id};
  }
  std::string_view why;
  const auto authority = http::parse_authority(head.authority, why);
  const PeerConfig* peer = authority ? config.find_peer(authority->host) : nullptr;
  if (peer == nullptr) return {};
  return {peer->name, peer->spiffe_id};
}

}  // namespace tollway::sidecar
