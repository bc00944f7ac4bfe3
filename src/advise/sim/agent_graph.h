// Agent graphs: the generator that builds a layered graph of agent roles from distributions (the per-task draws
// from them are the sampler's, seeded by the scenario), the expected calls a task makes in closed form, and the check that no agent can
// reach itself through calls that are admitted. Pure functions over Graph; they never draw per-task randomness
// (task_sampler.h does) and never do I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "advise/sim/scenario.h"

namespace tollway::sim {

// A layered agent graph: one root role, then `depth` levels of `roles_per_level` roles. Every role above the last
// level fans out, in one parallel step, to each role of the next level with probability 1 / roles_per_level and a
// `fan_out`-distributed number of copies (so a task expects mean(fan_out) children per agent, spread over the
// level's roles), then makes `llm_steps` LLM calls one after the other; last-level roles make only the LLM calls.
struct GraphSpec {
  int depth = 2;
  int roles_per_level = 1;
  int64_t replicas = 1;          // per role
  Distribution fan_out = Distribution::constant(2);
  int llm_steps = 1;
  double east_west_deny = 0;     // share of agent-to-agent calls refused by policy
  double llm_deny = 0;           // share of LLM calls refused (a budget or a limit)
  Distribution work_us;
  LlmCall llm;
};

Graph generate_graph(const GraphSpec& spec);

// Expected calls per task (closed form: counts' means × probabilities × admitted share, down the graph).
struct CallMix {
  double east_west = 0;    // agent → agent calls (admitted or refused)
  double north_south = 0;  // agent → LLM calls (admitted or refused)
  double total() const { return east_west + north_south; }
};
CallMix expected_calls(const Graph& graph);

// The name of a role on a cycle of calls that can be admitted (deny < 1), if any: such a graph never ends.
std::optional<std::string> find_cycle(const Graph& graph);

}  // namespace tollway::sim
