#include "advise/sim/task_sampler.h"

#include <algorithm>
#include <cmath>

#include "advise/sim/rng.h"

namespace tollway::sim {

namespace {

constexpr std::size_t kLanes = kTopologies.size();

struct Lanes {
  std::array<double, kLanes> duration{};  // µs, end to end below this point
  std::array<double, kLanes> tax{};       // µs of tollway passes on the critical path below this point
};

class Walker {
 public:
  Walker(const Scenario& s, SimRng& rng, TokenTally& tally) : s_(s), rng_(rng), tally_(tally) {}

  std::array<double, kLanes> passes{};
  double east_west = 0, north_south = 0;

  Lanes agent(int role_index) {
    const Role& role = s_.graph.roles[static_cast<std::size_t>(role_index)];
    Lanes out;
    out.duration.fill(role.work_us.sample(rng_));
    for (const Step& step : role.steps) {
      Lanes slowest;  // per lane, the call that ends last
      for (const Call& call : step.calls) {
        if (call.probability < 1 && rng_.uniform() >= call.probability) continue;
        const auto copies = static_cast<int64_t>(std::llround(call.count.sample(rng_)));
        for (int64_t i = 0; i < copies; ++i) {
          const Lanes c = this->call(call, role_index);
          for (std::size_t l = 0; l < kLanes; ++l) {
            if (c.duration[l] > slowest.duration[l]) {
              slowest.duration[l] = c.duration[l];
              slowest.tax[l] = c.tax[l];
            }
          }
        }
      }
      for (std::size_t l = 0; l < kLanes; ++l) {
        out.duration[l] += slowest.duration[l];
        out.tax[l] += slowest.tax[l];
      }
    }
    return out;
  }

  // The ingress pass of a task that enters from outside.
  void ingress(Lanes& task) {
    const double gateway = s_.hops.gateway.sample(rng_);
    const double sidecar = s_.hops.sidecar_one.sample(rng_);
    add(task, {0.0, gateway, sidecar, gateway + s_.hops.sidecar_one.sample(rng_)}, {0, 1, 1, 2});
  }

 private:
  Lanes call(const Call& call, int caller) {
    const bool refused = call.deny > 0 && rng_.uniform() < call.deny;
    Lanes out;
    if (call.kind == Call::Kind::Agent) {
      ++east_west;
      if (!refused) out = agent(call.target);
      add(out, {0.0, s_.hops.gateway.sample(rng_), s_.hops.sidecar_pair.sample(rng_), s_.hops.sidecar_pair.sample(rng_)},
          {0, 1, 2, 2});
      return out;
    }
    ++north_south;
    if (refused) {
      ++tally_.llm_calls_refused;
    } else {
      const LlmCall& llm = s_.graph.llm_calls[static_cast<std::size_t>(call.llm)];
      out.duration.fill(llm.latency_us.sample(rng_));
      double completion = std::round(llm.completion_tokens.sample(rng_));
      if (llm.max_tokens > 0) completion = std::min(completion, llm.max_tokens);
      const double tokens = std::round(llm.prompt_tokens.sample(rng_)) + completion;
      ++tally_.llm_calls_admitted;
      tally_.tokens += tokens;
      tally_.tokens_sq += tokens * tokens;
      tally_.charged_by_role[static_cast<std::size_t>(caller)] += tokens;
    }
    add(out, {0.0, s_.hops.gateway.sample(rng_), s_.hops.sidecar_one.sample(rng_), s_.hops.sidecar_gateway.sample(rng_)},
        {0, 1, 1, 2});
    return out;
  }

  void add(Lanes& lanes, const std::array<double, kLanes>& cost, const std::array<int, kLanes>& pass_count) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      lanes.duration[l] += cost[l];
      lanes.tax[l] += cost[l];
      passes[l] += pass_count[l];
    }
  }

  const Scenario& s_;
  SimRng& rng_;
  TokenTally& tally_;
};

double quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::min<double>(static_cast<double>(values.size()) - 1,
                                                           std::floor(q * static_cast<double>(values.size()))));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

SampleResult sample_tasks(const Scenario& scenario, int64_t tasks, uint64_t seed) {
  SampleResult result;
  result.tasks = tasks;
  result.tokens.charged_by_role.assign(scenario.graph.roles.size(), 0.0);
  SimRng rng(seed);
  Walker walker(scenario, rng, result.tokens);
  const auto n = static_cast<std::size_t>(tasks);
  std::array<std::vector<double>, kLanes> e2e, added, tax;
  std::array<double, kLanes> tax_sum{};
  for (std::size_t l = 0; l < kLanes; ++l) {
    e2e[l].resize(n);
    added[l].resize(n);
    tax[l].resize(n);
  }
  for (std::size_t t = 0; t < n; ++t) {
    Lanes task = walker.agent(scenario.graph.root);
    if (scenario.north_south_share > 0 && rng.uniform() < scenario.north_south_share) walker.ingress(task);
    for (std::size_t l = 0; l < kLanes; ++l) {
      e2e[l][t] = task.duration[l];
      added[l][t] = task.duration[l] - task.duration[0];
      tax[l][t] = task.tax[l];
      tax_sum[l] += task.tax[l];
    }
  }
  const double count = std::max<double>(1, static_cast<double>(tasks));
  for (std::size_t l = 0; l < kLanes; ++l) {
    LatencyStats& s = result.latency[l];
    s.e2e_p50_us = quantile(e2e[l], 0.5);
    s.e2e_p99_us = quantile(e2e[l], 0.99);
    s.added_p50_us = quantile(added[l], 0.5);
    s.added_p99_us = quantile(added[l], 0.99);
    s.tax_p50_us = quantile(tax[l], 0.5);
    s.tax_p99_us = quantile(tax[l], 0.99);
    s.tax_mean_us = tax_sum[l] / count;
    s.passes_mean = walker.passes[l] / count;
  }
  result.east_west_calls = walker.east_west / count;
  result.north_south_calls = walker.north_south / count;
  return result;
}

}  // namespace tollway::sim
