#include "advise/sim/simulation.h"

namespace tollway::sim {

SimResult simulate(const Scenario& s) {
  SimResult r;
  r.agents = s.graph.agents();
  r.calls_per_task = expected_calls(s.graph);
  r.tasks_per_second = s.tasks_per_second > 0 ? s.tasks_per_second
                       : r.calls_per_task.total() > 0
                           ? s.requests_per_agent_per_second * static_cast<double>(r.agents) / r.calls_per_task.total()
                           : 0;
  r.tasks_represented = r.tasks_per_second * s.duration_s;
  r.requests_represented = r.tasks_represented * r.calls_per_task.total();
  r.sample = sample_tasks(s, s.latency_samples, s.seed);
  r.events = r.sample.tasks;
  const TokenTally& tokens = r.sample.tokens;
  r.tokens_per_task = r.sample.tasks > 0 ? tokens.tokens / static_cast<double>(r.sample.tasks) : 0;
  if (s.budget.ledger == BudgetModel::Ledger::Leased && s.budget.limit_tokens > 0 && tokens.llm_calls_admitted > 0) {
    LeaseDemand demand;
    demand.tokens_per_second = r.tasks_per_second * r.tokens_per_task;
    demand.request_tokens_mean = tokens.tokens / static_cast<double>(tokens.llm_calls_admitted);
    demand.request_tokens_sq = tokens.tokens_sq / static_cast<double>(tokens.llm_calls_admitted);
    const int64_t nodes = s.budget.nodes > 0 ? s.budget.nodes : r.agents;
    if (s.budget.demand_by == BudgetModel::DemandBy::Agent) {
      // One node per agent replica (the loader refuses another `nodes`), in the graph's order of roles.
      demand.node_shares.reserve(static_cast<std::size_t>(r.agents));
      for (std::size_t role = 0; role < s.graph.roles.size(); ++role) {
        const auto replicas = s.graph.roles[role].replicas;
        const double share = tokens.charged_by_role[role] / tokens.tokens / static_cast<double>(replicas);
        demand.node_shares.insert(demand.node_shares.end(), static_cast<std::size_t>(replicas), share);
      }
    }
    r.lease = simulate_leases(s.budget, demand, s.duration_s, nodes, s.seed ^ 0x5DEECE66DULL);
    r.events += r.lease->events;
  }
  r.resources = sidecar_tax(s.resources, r.agents, r.tasks_per_second, r.calls_per_task.east_west,
                            r.calls_per_task.north_south, s.north_south_share);
  return r;
}

}  // namespace tollway::sim
