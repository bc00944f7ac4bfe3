#include "advise/sim/hop_costs.h"

namespace tollway::sim {

HopCosts default_hop_costs() {
  HopCosts h;
  // docs/benchmarks.md, "Hops (bench/hops)", table row "gateway": added per hop p50 (one hop) 56 µs,
  // p99 (one hop) 439 µs.
  h.gateway = Distribution::lognormal_p50_p99(56, 439);
  // Same table, row "sidecar": added per hop p50 (one hop) 169 µs, p99 (one hop) 1479 µs — agent → sidecar →
  // mTLS → sidecar → agent, tracing on.
  h.sidecar_pair = Distribution::lognormal_p50_p99(169, 1479);
  // Not measured on its own: half the sidecar pair (one of its two sidecars). A derived default, labelled so.
  h.sidecar_one = Distribution::lognormal_p50_p99(169.0 / 2, 1479.0 / 2);
  // Not measured on its own: one sidecar pass plus one gateway pass (the two rows above). Derived as well.
  h.sidecar_gateway = Distribution::lognormal_p50_p99(169.0 / 2 + 56, 1479.0 / 2 + 439);
  return h;
}

Resources default_resources() {
  Resources r;
  // docs/benchmarks.md, "Hops (bench/hops)", "CPU per request, one hop": the traced sidecar pair A + B costs
  // 83.0 µs of CPU per request (median), i.e. 41.5 µs per sidecar.
  r.sidecar_cpu_us_per_request = 83.0 / 2;
  // Same section, "Memory": idle VmRSS 12.6 MB (larger of A, B); 17.9 MB at 1000 rps (pool 16, traced pair).
  r.sidecar_rss_idle_mb = 12.6;
  r.sidecar_rss_1000rps_mb = 17.9;
  return r;
}

}  // namespace tollway::sim
