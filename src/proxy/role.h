// Role: what a role (gateway, sidecar, control plane) plugs into the proxy engine. The engine owns sockets,
// workers, the admin listener and the process lifecycle; the role owns its configuration, the snapshot built
// from it (filter chain, upstreams), which route a request goes to and the format its errors are written in.
// The engine never asks which role it runs; a role never touches a socket.
//
// Configuration is a transaction: prepare() checks everything applying would need and builds the snapshot
// without touching process state; commit() applies the process state the snapshot needs (stores, ledgers,
// exporters) only after prepare() succeeded, and never fails for a reason prepare() could have seen.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/request_ctx.h"
#include "pipeline/snapshot.h"
#include "proxy/admin_listener.h"
#include "proxy/config_source.h"
#include "telemetry/request_metrics.h"

namespace tollway::proxy {

// An admin API registered by a role or feature: every request whose path starts with `prefix` goes to
// `handler`.
struct AdminRoute {
  std::string prefix;
  AdminHandler handler;
};

// What the engine offers a role for the life of the process; filled by the role in attach().
struct EngineServices {
  boost::asio::io_context* control = nullptr;  // the control thread's context, for background work
  std::vector<AdminRoute> admin_routes;
  std::vector<std::function<void(std::string&)>> metrics;  // append Prometheus text to /metrics
  // Set-up a feature needs on each worker thread before that worker serves (the strict ledger's Redis
  // connections and scripts): run on every worker at start, before it accepts (/readyz waits), and before a
  // reload is applied. Runs on the worker's thread, gives up at `deadline`, and returns whether it is ready.
  std::vector<std::function<boost::asio::awaitable<bool>(std::chrono::steady_clock::time_point deadline)>>
      worker_setup;
  // The workers' request metrics merged (cumulative since the start); completes on the control thread.
  std::function<boost::asio::awaitable<telemetry::RequestMetrics>()> merged_request_metrics;
};

// A snapshot that passed prepare(), with the role's pending process-state changes; applied by commit() or
// dropped (nothing happened).
struct PreparedSnapshot {
  std::shared_ptr<pipeline::Snapshot> snapshot;
};

struct PrepareResult {
  std::optional<PreparedSnapshot> prepared;
  std::vector<std::string> errors;  // "FILE:LINE: key.path: message", one per problem; empty when prepared
  std::vector<std::string> warnings;  // same form; the config applies despite them (e.g. a model without a price)
};

// Where a request goes, as the role's classifier decides from the head alone.
struct RequestTarget {
  enum class Kind { Proxied, Local, Unknown } kind = Kind::Unknown;
  const pipeline::LocalEndpoint* local = nullptr;  // Kind::Local
  uint64_t max_body = 0;                           // Proxied and Local
  const pipeline::Chain* chain = nullptr;          // Proxied: the snapshot's chain it runs; null: the main one
};

class Role {
 public:
  virtual ~Role() = default;
  // "gateway", "sidecar": in the ready line and log messages.
  virtual std::string_view name() const = 0;
  // Once, on the control thread, before the first prepare: the role registers its admin routes and metrics.
  virtual void attach(EngineServices& services) = 0;
  // Pure: parses and validates `document` whole and builds the snapshot, comparing with `active` (null at
  // start) to refuse a change of a restart-only key with its key path. Never changes process state.
  virtual PrepareResult prepare(const ConfigDocument& document, const pipeline::Snapshot* active) = 0;
  // Applies what `prepared` needs of process state and returns the snapshot the workers will run. Null with
  // `error` only when a store cannot be opened the first time it is needed (nothing else changed then).
  virtual std::shared_ptr<const pipeline::Snapshot> commit(PreparedSnapshot prepared, std::string& error) = 0;
  // From the request head alone: writes ctx.route_name and ctx.api (the caller's error format) and says where the
  // request goes. For Unknown, fills ctx.reply/outcome with the answer. Never reads the body.
  virtual RequestTarget classify(const pipeline::Snapshot& snapshot, const http::RequestHead& head,
                                 pipeline::RequestCtx& ctx) const = 0;
  // The body of an error the engine answers itself (malformed request, timeout, upstream failure), in the
  // caller's format; `ctx` is null when no request head was parsed.
  virtual std::string error_body(const pipeline::RequestCtx* ctx, std::string_view path, int status,
                                 std::string_view message, std::string_view code) const = 0;
  // The HTTP status an error answered through error_body() goes out with, for a request whose head was parsed:
  // `status` unless the role's format carries the error in a successful answer (a JSON-RPC error of an MCP call
  // travels in a 200, so that the caller's SDK raises it as the call's error).
  virtual int error_status(const pipeline::RequestCtx&, int status) const { return status; }
  // Called on the control thread when the engine starts draining, so background work can stop.
  virtual void on_drain() {}
  // SIGUSR1: reopen the role's log files.
  virtual void reopen_logs() {}
};

}  // namespace tollway::proxy
