// Services: the gateway's process-lifetime state that outlives snapshots (stores, ledgers, exporters). Built
// on the control thread by the commit of the first snapshot that needs each piece; filters of every snapshot
// may hold pointers into it. It never holds per-request state.
#pragma once

#include <memory>

#include "auth/gateway_auth.h"
#include "limits/admission/runtime.h"
#include "mcp/guard/guard.h"
#include "providers/resilience/health_registry.h"
#include "proxy/role.h"
#include "telemetry/telemetry_output.h"

namespace tollway::gateway {

struct Services {
  proxy::EngineServices* engine = nullptr;  // admin routes, metrics renderers, the control thread
  std::unique_ptr<auth::GatewayAuth> auth;  // built by the first snapshot that needs it (assembly.cc)
  // Endpoint health (breakers, in flight, latency) and retry/fallback counters; built with the first
  // snapshot.
  std::unique_ptr<providers::resilience::UpstreamHealthRegistry> upstream_health;
  // Ledgers, spend log and limits metrics; built by the first snapshot with a limits policy (assembly.cc).
  std::unique_ptr<limits::LimitsRuntime> limits;
  // Where leases of leased budgets come from (the control plane a node runs under); null without --control, where
  // `ledger: leased` cannot run.
  std::shared_ptr<limits::LeaseSource> lease_source;
  // Access/decision logs and the OTLP exporter threads; built with the first config that enables telemetry.
  std::unique_ptr<telemetry::TelemetryOutput> telemetry;
  // MCP operation durations and refusals; built with the first config that exposes an MCP server.
  std::unique_ptr<mcp::McpRuntime> mcp;
  // The config of the last committed snapshot, for the admin APIs (read on the control thread only).
  std::shared_ptr<const config::GatewayConfig> config;
};

}  // namespace tollway::gateway
