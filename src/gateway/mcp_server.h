// MCP servers exposed through the gateway (the config's `mcp.servers`): GatewayMcpPolicy tells mcp::McpGuard
// which requests are MCP (a server's exact path) and decides them by the authenticated caller's tenant, agent
// group, agent and key against the server's rules; McpServerRoute sends an admitted request to the server's URL
// with the gateway's headers for it (its credential), never with the caller's own credential. Pure lookups over
// one snapshot's config; neither reads a body. McpToolLimits counts the tool calls the guard read against the
// server's `limits` in the gateway's own process (a 429 as the JSON-RPC error -32029 the SDK raises).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "http/upstream_pool.h"
#include "limits/local_ledger.h"
#include "mcp/guard/guard.h"

namespace tollway::gateway {

namespace asio = boost::asio;

// data.type of the JSON-RPC errors the gateway answers MCP callers with.
inline constexpr std::string_view kMcpErrorType = "tollway_gateway_error";

// The server of `config` served at `path`, or null.
const config::McpServerConfig* mcp_server_at(const config::GatewayConfig& config, std::string_view path);

class GatewayMcpPolicy final : public mcp::McpPolicy {
 public:
  explicit GatewayMcpPolicy(std::shared_ptr<const config::GatewayConfig> config);
  const mcp::McpServerRef* server(const pipeline::RequestCtx& ctx) const override;
  std::optional<mcp::McpCaller> caller(const pipeline::RequestCtx& ctx, const mcp::McpServerRef& server,
                                       std::string& why) const override;
  std::string_view error_type() const override { return kMcpErrorType; }

 private:
  std::shared_ptr<const config::GatewayConfig> config_;
  std::vector<mcp::McpServerRef> servers_;  // config_->mcp.servers, same order
};

// Select and shape phases for a request to an MCP server: its endpoint (one per server, same order as
// `mcp.servers`, owned by the snapshot), its URL's path with the request's query, its Host, the configured
// headers set and the caller's credential headers dropped.
class McpServerRoute final : public pipeline::Filter {
 public:
  McpServerRoute(std::shared_ptr<const config::GatewayConfig> config,
                 const std::vector<http::UpstreamEndpoint>& endpoints)
      : config_(std::move(config)), endpoints_(endpoints) {}
  std::string_view name() const override { return "mcp_server_route"; }
  asio::awaitable<pipeline::Verdict> select_upstream(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;

 private:
  std::shared_ptr<const config::GatewayConfig> config_;
  const std::vector<http::UpstreamEndpoint>& endpoints_;
};

// Admit phase for a request to an MCP server with `limits`: each tools/call of it (McpGuard read them) is one
// call of every limit whose `tools` match, counted per the limit's dimensions in `ledger` (in process: tool-call
// rates never wait on the network). Any counter without room refuses the whole request, forwarding nothing.
class McpToolLimits final : public pipeline::Filter {
 public:
  McpToolLimits(std::shared_ptr<const config::GatewayConfig> config, limits::LocalLedger& ledger)
      : config_(std::move(config)), ledger_(ledger) {}
  std::string_view name() const override { return "mcp_tool_limits"; }
  asio::awaitable<pipeline::Verdict> admit(pipeline::RequestCtx& ctx) override;

 private:
  std::shared_ptr<const config::GatewayConfig> config_;
  limits::LocalLedger& ledger_;
};

}  // namespace tollway::gateway
