// GatewayServer: the gateway process. Loads and validates the config (a file, or without one the embedded
// default), starts one Worker per core and the admin listener, reloads a config file on SIGHUP and on file change
// (validated whole, swapped atomically per worker,
// an invalid config keeps the old one and is counted), reopens the access and decision log files on SIGUSR1, and
// drains on SIGTERM/SIGINT before exiting 0.
// It never applies a partially valid config and never blocks a worker.
#pragma once

#include <optional>
#include <string>

namespace tollway::gateway {

struct GatewayOptions {
  std::string config_path;             // empty: the embedded default config (config/embedded_config.h)
  std::optional<std::string> listen;  // overrides gateway.listen
  std::optional<std::string> admin;   // overrides gateway.admin
  std::optional<int> workers;         // overrides gateway.workers
};

// Runs until drained; returns the process exit code.
int run_gateway(const GatewayOptions& options);

}  // namespace tollway::gateway
