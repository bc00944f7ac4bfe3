// SidecarRole: the east-west sidecar as the proxy engine runs it — the sidecar document (sidecar/config.h), two
// listeners (outbound: a plain HTTP forward proxy on loopback for the local agent; inbound: mTLS only, for peer
// sidecars), peers reached over mTLS with the SPIFFE ID the directory names, and the local agent on loopback. It
// never touches a socket and never lets a request through whose peer identity it could not verify.
#pragma once

#include "proxy/role.h"
#include "sidecar/config.h"
#include "sidecar/filters.h"
#include "sidecar/limit_filter.h"
#include "sidecar/mcp_endpoint.h"
#include "sidecar/a2a_filter.h"
#include "sidecar/mcp_filter.h"
#include "sidecar/hop_runtime.h"

namespace tollway::sidecar {

struct SidecarSnapshot final : pipeline::Snapshot {
  std::shared_ptr<const SidecarConfig> config;
  SidecarUpstreams endpoints;
  std::optional<http::UpstreamEndpoint> gateway;  // sidecar.gateway
};

class SidecarRole final : public proxy::Role {
 public:
  std::string_view name() const override { return "sidecar"; }
  // The control plane's usage API, for budgets under `ledger: leased` (set before the first commit by a sidecar
  // under control; without it such a document is refused at commit).
  void set_lease_source(std::shared_ptr<limits::LeaseSource> source) { lease_source_ = std::move(source); }
  void attach(proxy::EngineServices& services) override;
  proxy::PrepareResult prepare(const proxy::ConfigDocument& document, const pipeline::Snapshot* active) override;
  std::shared_ptr<const pipeline::Snapshot> commit(proxy::PreparedSnapshot prepared, std::string& error) override;
  proxy::RequestTarget classify(const pipeline::Snapshot& snapshot, const http::RequestHead& head,
                                pipeline::RequestCtx& ctx) const override;
  std::string error_body(const pipeline::RequestCtx* ctx, std::string_view path, int status,
                         std::string_view message, std::string_view code) const override;
  int error_status(const pipeline::RequestCtx& ctx, int status) const override;

 private:
  boost::asio::io_context* control_ = nullptr;  // the engine's control thread (the lease sync loop runs there)
  std::shared_ptr<limits::LeaseSource> lease_source_;
  LocalLimitState limit_state_;  // the local limits' ledger and counts, kept across reloads
  HopRuntime hop_runtime_;  // tracing and runaway protection across snapshots (sidecar/hop_runtime.h)
  A2aRuntime a2a_runtime_;  // A2A refusals and agent cards across snapshots
  mcp::McpRuntime mcp_runtime_{"sidecar"};  // MCP operation durations and refusals across snapshots
  McpEndpointSessions mcp_sessions_;  // the agent's MCP endpoint sessions across snapshots
};

}  // namespace tollway::sidecar
