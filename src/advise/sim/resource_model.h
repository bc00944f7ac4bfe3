// ResourceTax: the sidecars' share of the fleet's compute, in closed form — one sidecar per agent replica, CPU per
// request through a sidecar times the passes per second (two per east-west call, one per north-south call and per
// ingress), resident memory interpolated between idle and 1,000 requests/s, each taken at least at its
// reservation — against the workload's own CPU and memory. It computes; it never measures anything.
#pragma once

#include "advise/sim/scenario.h"

namespace tollway::sim {

struct ResourceTax {
  double sidecars = 0;
  double sidecar_passes_per_second = 0;   // the whole fleet
  double requests_per_sidecar_per_second = 0;
  double sidecar_cpu_cores = 0;           // max(used, reserved), all sidecars
  double sidecar_memory_mb = 0;
  double workload_cpu_cores = 0;
  double workload_memory_mb = 0;
  double cpu_share = 0;     // sidecars ÷ (sidecars + workload)
  double memory_share = 0;
};

ResourceTax sidecar_tax(const Resources& resources, int64_t agents, double tasks_per_second, double east_west_per_task,
                        double north_south_per_task, double north_south_share);

}  // namespace tollway::sim
