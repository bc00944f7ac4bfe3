// Scenario: everything one `tollway sim` run simulates, as plain typed values — the agent graph (explicit roles or
// generated from distributions), the load, the per-hop costs of each topology, the budget's ledger and the sidecars'
// resources. Built by scenario_loader.h from YAML or directly by tests and benchmarks; it holds no I/O state and is
// never changed by a simulation. Times are microseconds, token counts are tokens, rates are per second.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "advise/sim/distribution.h"

namespace tollway::sim {

// The four ways a call can travel, compared side by side in every run.
enum class Topology { Direct, Gateway, Sidecar, Hybrid };
inline constexpr std::array<Topology, 4> kTopologies = {Topology::Direct, Topology::Gateway, Topology::Sidecar,
                                                        Topology::Hybrid};
const char* topology_name(Topology t);

// The added latency of one pass through tollway, per kind of pass (µs). Defaults: hop_costs.h.
struct HopCosts {
  Distribution gateway;          // agent → gateway → agent or provider (one gateway pass)
  Distribution sidecar_pair;     // agent → its sidecar → mTLS → the callee's sidecar → callee (east-west)
  Distribution sidecar_one;      // one sidecar pass: agent → its sidecar → provider, or an inbound call into an agent
  Distribution sidecar_gateway;  // agent → its sidecar → mTLS → gateway → provider (the hybrid's north-south leg)
};

// One LLM call's shape: its latency at the provider (µs) and its tokens.
struct LlmCall {
  Distribution latency_us;
  Distribution prompt_tokens;
  Distribution completion_tokens;  // what the provider reports; never above max_tokens (clamped)
  double max_tokens = 0;           // the reservation covers prompt + max_tokens
};

// One call an agent makes within a step: to another agent (east-west) or to the LLM (north-south).
struct Call {
  enum class Kind { Agent, Llm } kind = Kind::Llm;
  int target = -1;             // Agent: the callee's index in Graph::roles
  int llm = -1;                // Llm: index in Graph::llm_calls
  Distribution count;          // how many copies run in parallel (drawn per task; default 1)
  double probability = 1.0;    // the call is made at all (drawn per task)
  double deny = 0.0;           // policy refuses it at the callee's side: nothing below runs, no tokens
};

// A step is one call, or several started at once (a fan-out); steps run one after the other.
struct Step {
  std::vector<Call> calls;
};

struct Role {
  std::string name;
  int64_t replicas = 1;
  Distribution work_us;  // the agent's own time per request, outside its calls
  std::vector<Step> steps;
};

struct Graph {
  std::vector<Role> roles;
  std::vector<LlmCall> llm_calls;
  int root = 0;
  int64_t agents() const;
};

struct BudgetModel {
  enum class Ledger { Leased, Strict } ledger = Ledger::Leased;
  double limit_tokens = 0;       // 0: unlimited (no leased run)
  int64_t nodes = 0;             // nodes holding the budget; 0: one per agent replica
  double sync_interval_us = 250e3;
  double lease_ttl_us = 1e6;
  Distribution report_latency_us = Distribution::constant(1000);
  // How the demand is spread over the nodes: Zipf with exponent demand_skew over `nodes` (0: uniform), or one node
  // per agent replica, each with its role's share of the sampled tokens split evenly over the role's replicas (an
  // agent that makes no LLM call holds a lease it never spends).
  enum class DemandBy { Zipf, Agent } demand_by = DemandBy::Zipf;
  double demand_skew = 1.0;
  bool allow_beyond_lease = false;  // on_lease_exhausted: allow (term U) instead of deny
  int64_t nodes_lost = 0;        // the busiest nodes, lost once this share of the limit is spent
  double lost_at_spent = 0.5;
  double floor_divisor = 4;      // LeaseBook's fair-share floor: (limit − spent) / (floor_divisor × holders)
};

struct Resources {
  double agent_cpu_millicores = 500;   // the workload's own, per agent replica
  double agent_memory_mb = 512;
  double sidecar_cpu_us_per_request = 0;  // per request through one sidecar
  double sidecar_rss_idle_mb = 0;
  double sidecar_rss_1000rps_mb = 0;      // interpolated linearly in the sidecar's request rate
  double sidecar_cpu_reserved_millicores = 0;  // a reservation counts when above what is used
  double sidecar_memory_reserved_mb = 0;
};

struct Scenario {
  std::string name;
  uint64_t seed = 1;
  double duration_s = 60;
  double tasks_per_second = 0;                 // set directly, or derived from requests_per_agent_per_second
  double requests_per_agent_per_second = 0;    // calls each agent replica makes per second, on average
  double north_south_share = 0;                // tasks that enter from outside (an ingress pass first)
  int64_t latency_samples = 100000;            // tasks sampled (Monte Carlo) for the latency distributions
  HopCosts hops;
  Graph graph;
  BudgetModel budget;
  Resources resources;
};

}  // namespace tollway::sim
