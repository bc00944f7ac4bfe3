#include "advise/sim/resource_model.h"

#include <algorithm>

namespace tollway::sim {

ResourceTax sidecar_tax(const Resources& r, int64_t agents, double tasks_per_second, double east_west_per_task,
                        double north_south_per_task, double north_south_share) {
  ResourceTax t;
  t.sidecars = static_cast<double>(agents);
  t.sidecar_passes_per_second = tasks_per_second * (2 * east_west_per_task + north_south_per_task + north_south_share);
  t.requests_per_sidecar_per_second = t.sidecars > 0 ? t.sidecar_passes_per_second / t.sidecars : 0;
  const double used_cores_each = t.requests_per_sidecar_per_second * r.sidecar_cpu_us_per_request / 1e6;
  t.sidecar_cpu_cores = t.sidecars * std::max(used_cores_each, r.sidecar_cpu_reserved_millicores / 1000);
  const double rss_each = r.sidecar_rss_idle_mb + (r.sidecar_rss_1000rps_mb - r.sidecar_rss_idle_mb) *
                                                      t.requests_per_sidecar_per_second / 1000;
  t.sidecar_memory_mb = t.sidecars * std::max(rss_each, r.sidecar_memory_reserved_mb);
  t.workload_cpu_cores = static_cast<double>(agents) * r.agent_cpu_millicores / 1000;
  t.workload_memory_mb = static_cast<double>(agents) * r.agent_memory_mb;
  const auto share = [](double part, double rest) { return part + rest > 0 ? part / (part + rest) : 0; };
  t.cpu_share = share(t.sidecar_cpu_cores, t.workload_cpu_cores);
  t.memory_share = share(t.sidecar_memory_mb, t.workload_memory_mb);
  return t;
}

}  // namespace tollway::sim
