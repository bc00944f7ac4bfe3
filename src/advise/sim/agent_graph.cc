#include "advise/sim/agent_graph.h"

#include <functional>
#include <vector>


namespace tollway::sim {

int64_t Graph::agents() const {
  int64_t n = 0;
  for (const auto& r : roles) n += r.replicas;
  return n;
}

Graph generate_graph(const GraphSpec& spec) {
  Graph g;
  g.llm_calls.push_back(spec.llm);
  const auto add_role = [&](std::string name) {
    Role r;
    r.name = std::move(name);
    r.replicas = spec.replicas;
    r.work_us = spec.work_us;
    g.roles.push_back(std::move(r));
    return static_cast<int>(g.roles.size()) - 1;
  };
  g.root = add_role("root");
  std::vector<int> level{g.root};
  for (int depth = 1; depth <= spec.depth; ++depth) {
    std::vector<int> next;
    for (int i = 0; i < spec.roles_per_level; ++i)
      next.push_back(add_role("l" + std::to_string(depth) + "-" + std::to_string(i)));
    Step fan_out;
    for (int callee : next) {
      Call c;
      c.kind = Call::Kind::Agent;
      c.target = callee;
      c.count = spec.fan_out;
      c.probability = 1.0 / static_cast<double>(next.size());
      c.deny = spec.east_west_deny;
      fan_out.calls.push_back(c);
    }
    for (int caller : level) g.roles[static_cast<std::size_t>(caller)].steps.push_back(fan_out);
    level = std::move(next);
  }
  for (auto& role : g.roles) {
    for (int i = 0; i < spec.llm_steps; ++i) {
      Call c;
      c.kind = Call::Kind::Llm;
      c.llm = 0;
      c.count = Distribution::constant(1);
      c.deny = spec.llm_deny;
      role.steps.push_back(Step{{c}});
    }
  }
  return g;
}

CallMix expected_calls(const Graph& graph) {
  std::vector<std::optional<CallMix>> memo(graph.roles.size());
  std::function<CallMix(int)> below = [&](int role) -> CallMix {
    if (memo[static_cast<std::size_t>(role)]) return *memo[static_cast<std::size_t>(role)];
    CallMix mix;
    for (const auto& step : graph.roles[static_cast<std::size_t>(role)].steps) {
      for (const auto& call : step.calls) {
        const double made = call.probability * call.count.mean();
        if (call.kind == Call::Kind::Llm) {
          mix.north_south += made;
          continue;
        }
        mix.east_west += made;
        if (call.deny < 1) {
          const CallMix sub = below(call.target);
          mix.east_west += made * (1 - call.deny) * sub.east_west;
          mix.north_south += made * (1 - call.deny) * sub.north_south;
        }
      }
    }
    memo[static_cast<std::size_t>(role)] = mix;
    return mix;
  };
  return below(graph.root);
}

std::optional<std::string> find_cycle(const Graph& graph) {
  enum class Mark { None, Open, Done };
  std::vector<Mark> marks(graph.roles.size(), Mark::None);
  std::optional<std::string> found;
  std::function<void(int)> visit = [&](int role) {
    auto& mark = marks[static_cast<std::size_t>(role)];
    if (mark == Mark::Done || found) return;
    if (mark == Mark::Open) {
      found = graph.roles[static_cast<std::size_t>(role)].name;
      return;
    }
    mark = Mark::Open;
    for (const auto& step : graph.roles[static_cast<std::size_t>(role)].steps)
      for (const auto& call : step.calls)
        if (call.kind == Call::Kind::Agent && call.deny < 1 && call.probability > 0) visit(call.target);
    mark = Mark::Done;
  };
  for (std::size_t i = 0; i < graph.roles.size() && !found; ++i) visit(static_cast<int>(i));
  return found;
}

}  // namespace tollway::sim
