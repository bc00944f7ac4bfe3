// SidecarMcpPolicy: what mcp::McpGuard (src/mcp/guard/guard.h) decides by on the sidecar's inbound side, for a
// local agent that serves MCP over streamable HTTP (the document's `mcp:` section): requests on the inbound
// listener to mcp.paths are MCP for mcp.server; the caller is the SPIFFE ID of its verified certificate, decided
// by mcp.rules. Pure lookups over one snapshot's config; it never reads a body.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/guard/guard.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

// data.type of the JSON-RPC errors the sidecar answers with.
inline constexpr std::string_view kRpcErrorType = "tollway_sidecar_error";

class SidecarMcpPolicy final : public mcp::McpPolicy {
 public:
  explicit SidecarMcpPolicy(std::shared_ptr<const SidecarConfig> config);
  const mcp::McpServerRef* server(const pipeline::RequestCtx& ctx) const override;
  std::optional<mcp::McpCaller> caller(const pipeline::RequestCtx& ctx, const mcp::McpServerRef& server,
                                       std::string& why) const override;
  std::string_view error_type() const override { return kRpcErrorType; }

 private:
  std::shared_ptr<const SidecarConfig> config_;
  mcp::McpServerRef server_;
};

}  // namespace tollway::sidecar
