// Services: the gateway's process-lifetime state that outlives snapshots (stores, caches, the admin APIs
// features register). Built once at start on the control thread; filters of every snapshot may hold
// pointers into it. It never holds per-request state.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/gateway_auth.h"
#include "gateway/admin.h"
#include "limits/admission/runtime.h"
#include "providers/resilience/health_registry.h"
#include "telemetry/telemetry_output.h"

namespace tollway::gateway {

// An admin API registered by a feature: every request whose path starts with `prefix` goes to `handler`.
struct AdminRoute {
  std::string prefix;
  AdminHandler handler;
};

// Set-up a feature needs on each worker thread before that worker serves (the strict ledger's Redis connection
// and scripts); runs on the worker's thread, gives up at `deadline`, and returns whether it is ready.
using WorkerSetup = std::function<asio::awaitable<bool>(std::chrono::steady_clock::time_point deadline)>;

struct Services {
  std::vector<AdminRoute> admin_routes;
  asio::io_context* control = nullptr;  // the control thread's context, for features' background work
  std::vector<std::function<void(std::string&)>> metrics;  // append Prometheus text to /metrics
  // Run on every worker at start (before it accepts; /readyz waits) and before a reload is applied.
  std::vector<WorkerSetup> worker_setup;
  std::unique_ptr<auth::GatewayAuth> auth;  // built by the first snapshot that needs it (assembly.cc)
  // Endpoint health (breakers, in flight, latency) and retry/fallback counters; built with the first snapshot.
  std::unique_ptr<providers::resilience::UpstreamHealthRegistry> upstream_health;
  // Ledgers, spend log and limits metrics; built by the first snapshot with a limits policy (assembly.cc).
  std::unique_ptr<limits::LimitsRuntime> limits;
  // Access/decision logs and the OTLP exporter threads; built with the first config that enables telemetry.
  std::unique_ptr<telemetry::TelemetryOutput> telemetry;
};

}  // namespace tollway::gateway
