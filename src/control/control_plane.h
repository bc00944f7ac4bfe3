// ControlPlane: the `tollway control` process — checks the policy directory whole at start and on every change
// (polled, a change counts once two polls agree), publishes it only when every node's document passed, counts
// revisions (COUNTER-HASH, the counter kept in --state-dir across restarts), and serves the WatchApi on an
// AdminListener until SIGTERM or SIGINT. It never publishes a policy with an error: the published revision stays
// and the error shows in /v1/fleet.
#pragma once

#include <chrono>
#include <string>

#include "control/policy_check.h"

namespace tollway::control {

struct ControlPlaneOptions {
  std::string policy_dir;
  std::string listen;  // HOST:PORT, port 0 = ephemeral
  std::string admin_token;
  std::string state_dir;  // "" = the revision counter starts at 1 each time
  std::chrono::milliseconds poll_timeout{30'000};
  CheckDocument check;
};

// Runs until drained; returns the exit code (1 when the policy is invalid at start or the address is unusable).
int run_control_plane(const ControlPlaneOptions& options);

}  // namespace tollway::control
