// simulate: one `tollway sim` run over a Scenario — the tasks' latency per topology (task_sampler.h, Monte Carlo),
// the leased budget across the fleet (lease_model.h, discrete events), the sidecars' resource tax
// (resource_model.h, closed form) and the totals the whole scenario represents (task rate × duration, closed
// form). Deterministic for a scenario and its seed; no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>

#include "advise/sim/agent_graph.h"
#include "advise/sim/lease_model.h"
#include "advise/sim/resource_model.h"
#include "advise/sim/task_sampler.h"

namespace tollway::sim {

struct SimResult {
  int64_t agents = 0;
  double tasks_per_second = 0;
  CallMix calls_per_task;          // closed form
  double tasks_represented = 0;    // tasks_per_second × duration
  double requests_represented = 0; // calls (east-west and north-south) the whole scenario makes
  double tokens_per_task = 0;      // sampled mean (admitted LLM calls)
  SampleResult sample;
  std::optional<LeaseOutcome> lease;  // leased ledger with a limit
  ResourceTax resources;
  int64_t events = 0;              // sampled tasks + lease events: what was simulated one by one
};

SimResult simulate(const Scenario& scenario);

}  // namespace tollway::sim
