// run_demo: `tollway demo` — the seed's hybrid on one machine. It starts, on loopback and free ports, a mock
// provider and the three built-in agents (in this process), Redis when redis-server is installed, a control plane
// with the demo policy and its CA, a gateway and three sidecars under it (each joining with a one-time token and
// holding its own SVID), then runs a scripted workload, prints a summary and the dashboard's URL, and keeps running
// until SIGINT/SIGTERM or `duration`. Every process it starts is stopped before it returns, on every path.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "demo/demo_policy.h"

namespace tollway::demo {

struct DemoOptions {
  std::chrono::milliseconds duration{0};  // 0: until SIGINT or SIGTERM
  std::string work_dir;                   // "": a new temporary directory, removed at exit; else kept
  int tasks = 40;                         // the workload's tasks (4 at a time)
  int64_t mesh_budget = kMeshDailyTokens; // the leased mesh-llm-tokens budget (tokens a day)
  std::string mesh_on_exhausted = "wait"; // what a sidecar does when its lease has no room: wait, deny or allow
  std::string program;                    // this tollway binary (absolute), run for every role
};

// Returns the process exit code: 0 when everything started, the workload ran and the totals match.
int run_demo(const DemoOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tollway::demo
