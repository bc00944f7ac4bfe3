// TaskSampler: the Monte Carlo part of the simulator. Each sampled task walks the agent graph once — per-task
// draws of fan-out counts, whether each call is made or refused, agents' own work, LLM latency and tokens — and
// carries four lanes at once, one per topology (direct, gateway, sidecar, hybrid), each drawing its own per-pass
// costs: the topologies are compared on the same tasks (common random numbers). A step's parallel calls end when
// the slowest does; the latency tax of a task is the sum of tollway passes on its critical path (the path through
// the slowest call of every step), the added latency its end-to-end time minus the direct lane's. It allocates
// only the result arrays, before the first task; it never does I/O.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "advise/sim/scenario.h"

namespace tollway::sim {

struct LatencyStats {
  double e2e_p50_us = 0, e2e_p99_us = 0;
  double added_p50_us = 0, added_p99_us = 0;  // end-to-end minus the direct lane's, per task
  double tax_p50_us = 0, tax_p99_us = 0, tax_mean_us = 0;  // tollway passes on the critical path
  double passes_mean = 0;  // tollway passes per task (every call, on the critical path or not)
};

// Tokens of the sampled tasks. Every admitted LLM call's tokens are charged once, to the role that made it.
struct TokenTally {
  int64_t llm_calls_admitted = 0;
  int64_t llm_calls_refused = 0;
  double tokens = 0;      // Σ over admitted calls of prompt + completion
  double tokens_sq = 0;   // Σ of their squares (the leased model's request-size variance)
  std::vector<double> charged_by_role;
};

struct SampleResult {
  int64_t tasks = 0;
  std::array<LatencyStats, 4> latency;  // indexed like kTopologies
  TokenTally tokens;
  double east_west_calls = 0, north_south_calls = 0;  // per task, sampled means
};

SampleResult sample_tasks(const Scenario& scenario, int64_t tasks, uint64_t seed);

}  // namespace tollway::sim
