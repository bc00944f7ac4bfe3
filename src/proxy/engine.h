// Engine: the process every proxy role runs. Reads the configuration from a ConfigSource and applies it as a
// transaction through the role (prepare whole, then commit; a rejected version changes nothing and is
// counted), starts one Worker per core and the admin listener, reloads on SIGHUP and when the source changes,
// reopens log files on SIGUSR1, and drains on SIGTERM/SIGINT before exiting 0. Serves /healthz, /readyz,
// /config and /metrics (its own series, the workers' merged request metrics and what the role registered). It
// never applies a partially valid configuration, never blocks a worker and never asks which role it runs.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "proxy/config_source.h"
#include "proxy/node_identity.h"
#include "proxy/role.h"

namespace tollway::proxy {

struct EngineOptions {
  std::optional<std::string> listen;  // overrides the snapshot's listen address
  std::optional<std::string> admin;   // overrides the admin address
  std::optional<int> workers;         // overrides the worker count
  // The node's SPIFFE identity when it has one: renewed on the control thread, its expiry on /metrics.
  std::shared_ptr<NodeIdentity> identity;
};

// Runs until drained; returns the process exit code (1 when the first configuration is rejected or a listener
// cannot be opened). `make_source` builds the source on the engine's control context.
int run_engine(Role& role, const EngineOptions& options,
               const std::function<std::unique_ptr<ConfigSource>(boost::asio::io_context&)>& make_source);

}  // namespace tollway::proxy
