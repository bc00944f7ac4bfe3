// LeaseModel: the discrete-event simulation of one leased budget across a fleet — every node's reports to the
// control plane (one event per node per sync interval), the control plane's grant rule as LeaseBook::grant applies
// it (demand over two sync intervals, at least the fair-share floor (limit − spent) / (4 × holders), never beyond
// what the others hold; a lowered grant stays committed until the node's next report), lost nodes and their lease
// expiry. Between two events a node's demand is not simulated request by request: its tokens over the gap are one
// draw of the compound-Poisson sum (exact mean and variance; Poisson count and per-request sizes below 10 expected
// requests, a normal with the same moments above), admitted up to what its lease still allows. It reports what
// was spent beyond the limit against the documented bound B = R + K + U + S (docs/operations.md, "Leased
// budgets"). Demand is spread over the nodes by Zipf or by given shares (one per node). It allocates its per-node
// arrays once (and, when nodes are lost, their order by demand); it never does I/O.
#pragma once

#include <cstdint>
#include <vector>

#include "advise/sim/scenario.h"

namespace tollway::sim {

struct LeaseDemand {
  double tokens_per_second = 0;     // the whole fleet's demand
  double request_tokens_mean = 0;   // per LLM request
  double request_tokens_sq = 0;     // E[size²]
  std::vector<double> node_shares;  // each node's share of the demand (one per node, summing to 1); empty: Zipf
};

struct LeaseOutcome {
  double limit = 0;
  double demanded = 0;   // tokens the fleet asked for
  double served = 0;     // tokens admitted and charged (each once, by the node that admitted it)
  double denied = 0;     // demanded − served
  double overspend = 0;  // max(0, served − limit)
  double bound_k = 0;    // lost nodes' unreported use (granted − used at their last report)
  double bound_u = 0;    // admitted beyond the lease under on_lease_exhausted: allow
  double bound() const { return bound_k + bound_u; }  // R = 0 (reservations cover max_tokens), S = 0 (not modelled)
  double exhausted_at_s = -1;       // when the fleet had served the whole limit (-1: never)
  int64_t reports = 0;
  double reports_per_second = 0;
  double reports_per_second_closed_form = 0;  // nodes ÷ (sync interval + report latency mean)
  int64_t nodes = 0;
  int64_t events = 0;
  std::vector<double> served_by_node;  // what each node admitted (sums to served)
};

// `demand.node_shares`, when given, has one entry per node.
LeaseOutcome simulate_leases(const BudgetModel& budget, const LeaseDemand& demand, double duration_s, int64_t nodes,
                             uint64_t seed);

}  // namespace tollway::sim
