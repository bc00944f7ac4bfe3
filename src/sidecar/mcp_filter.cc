#include "sidecar/mcp_filter.h"

#include "sidecar/filters.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {

SidecarMcpPolicy::SidecarMcpPolicy(std::shared_ptr<const SidecarConfig> config)
    : config_(std::move(config)), server_{config_->mcp.server, config_->mcp.max_message_bytes} {}

const mcp::McpServerRef* SidecarMcpPolicy::server(const pipeline::RequestCtx& ctx) const {
  if (ctx.listener != kInboundListener || !config_->mcp.enabled) return nullptr;
  const std::string_view path = ctx.head->path();
  for (const auto& p : config_->mcp.paths)
    if (path == p) return &server_;
  return nullptr;
}

std::optional<mcp::McpCaller> SidecarMcpPolicy::caller(const pipeline::RequestCtx& ctx, const mcp::McpServerRef&,
                                                       std::string& why) const {
  const std::string text = ctx.peer_identity ? ctx.peer_identity->spiffe_id : std::string();
  auto id = tls::SpiffeId::parse(text);
  if (!id) {
    why = "the caller's certificate carries no SPIFFE ID";
    return std::nullopt;
  }
  mcp::McpCaller caller;
  caller.name = text;
  caller.log_fields = {{"source_spiffe_id", text}, {"destination_spiffe_id", config_->spiffe_id}};
  caller.decide = [config = config_, id = std::move(*id)](mcp::TargetKind kind, std::string_view target) {
    return decide_mcp(config->mcp, id, kind, target);
  };
  return caller;
}

}  // namespace tollway::sidecar
