// Scenario loading: a full scenario reads into typed values; every error names file:line and the key path; units
// are required; a graph whose admitted calls loop is refused.
#include "advise/sim/scenario_loader.h"

#include <gtest/gtest.h>

namespace tollway::sim {
namespace {

constexpr const char* kDemo = R"(name: demo
seed: 7
duration: 40s
load: {tasks_per_second: 4, north_south_share: 0.25, latency_samples: 1000}
hop_costs:
  gateway: {p50: 56us, p99: 439us}
  sidecar_pair: 3ms
  sidecar_one: {samples_us: [80, 90, 100]}
llm: {latency: 1ms, prompt_tokens: 10, completion_tokens: {p50: 20, p99: 40}, max_tokens: 48}
graph:
  root: orchestrator
  agents:
    - name: orchestrator
      work: 200us
      steps:
        - parallel: [{agent: retrieval, deny: 0.7}, {agent: tools}]
        - llm: {max_tokens: 48}
    - name: retrieval
      replicas: 3
      steps: [{llm: {}}]
    - name: tools
      steps:
        - {llm: {max_tokens: 24}, count: {1: 0.5, 2: 0.5}}
        - {agent: orchestrator, probability: 0.125, deny: 1}
budget: {ledger: leased, limit: 200000, sync_interval: 250ms, lease_ttl: 1s, nodes_lost: 1}
resources: {agent_cpu_millicores: 250, sidecar: {cpu_reserved_millicores: 100}}
)";

TEST(ScenarioLoader, ReadsAFullScenario) {
  const ScenarioLoad load = load_scenario(kDemo, "demo.yaml");
  ASSERT_TRUE(load.errors.empty()) << load.errors.front().to_string();
  const Scenario& s = *load.scenario;
  EXPECT_EQ(s.name, "demo");
  EXPECT_EQ(s.seed, 7u);
  EXPECT_DOUBLE_EQ(s.duration_s, 40);
  EXPECT_DOUBLE_EQ(s.tasks_per_second, 4);
  EXPECT_DOUBLE_EQ(s.north_south_share, 0.25);
  EXPECT_EQ(s.latency_samples, 1000);
  EXPECT_EQ(s.hops.gateway.shape(), Distribution::Shape::LogNormal);
  EXPECT_DOUBLE_EQ(s.hops.sidecar_pair.mean(), 3000);
  EXPECT_DOUBLE_EQ(s.hops.sidecar_one.mean(), 90);
  ASSERT_EQ(s.graph.roles.size(), 3u);
  EXPECT_EQ(s.graph.root, 0);
  EXPECT_EQ(s.graph.agents(), 5);
  const Role& orchestrator = s.graph.roles[0];
  ASSERT_EQ(orchestrator.steps.size(), 2u);
  ASSERT_EQ(orchestrator.steps[0].calls.size(), 2u);
  EXPECT_EQ(orchestrator.steps[0].calls[0].target, 1);
  EXPECT_DOUBLE_EQ(orchestrator.steps[0].calls[0].deny, 0.7);
  const Call& summary = orchestrator.steps[1].calls[0];
  EXPECT_EQ(summary.kind, Call::Kind::Llm);
  EXPECT_DOUBLE_EQ(s.graph.llm_calls[static_cast<std::size_t>(summary.llm)].max_tokens, 48);
  // The default llm's latency.
  EXPECT_DOUBLE_EQ(s.graph.llm_calls[static_cast<std::size_t>(summary.llm)].latency_us.mean(), 1000);
  EXPECT_EQ(s.graph.roles[1].steps[0].calls[0].llm, 0);  // llm: {} is the default call
  EXPECT_DOUBLE_EQ(s.graph.roles[2].steps[0].calls[0].count.mean(), 1.5);
  EXPECT_DOUBLE_EQ(s.budget.limit_tokens, 200000);
  EXPECT_EQ(s.budget.nodes_lost, 1);
  EXPECT_DOUBLE_EQ(s.resources.agent_cpu_millicores, 250);
  EXPECT_DOUBLE_EQ(s.resources.sidecar_cpu_reserved_millicores, 100);
  EXPECT_DOUBLE_EQ(s.resources.sidecar_cpu_us_per_request, 41.5);  // the measured default stays
}

// budget.demand_by: agent puts one node on each agent replica (5 here: orchestrator, 3 retrieval, tools) with its
// role's tokens; another node count, a Zipf exponent beside it or an unknown split is refused with its line.
TEST(ScenarioLoader, DemandByAgent) {
  std::string demo = kDemo;
  const std::string budget = "budget: {ledger: leased, limit: 200000, sync_interval: 250ms, lease_ttl: 1s, nodes_lost: 1}";
  const auto with_budget = [&](const std::string& b) {
    std::string text = demo;
    text.replace(text.find(budget), budget.size(), b);
    return load_scenario(text, "s.yaml");
  };
  const ScenarioLoad ok = with_budget("budget: {ledger: leased, limit: 2000, demand_by: agent}");
  ASSERT_TRUE(ok.scenario) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  EXPECT_EQ(ok.scenario->budget.demand_by, BudgetModel::DemandBy::Agent);
  EXPECT_TRUE(with_budget("budget: {ledger: leased, limit: 2000, demand_by: agent, nodes: 5}").scenario);
  const auto error_of = [&](const std::string& b) {
    const ScenarioLoad load = with_budget(b);
    EXPECT_FALSE(load.scenario) << b;
    return load.errors.empty() ? std::string() : load.errors[0].to_string();
  };
  EXPECT_NE(error_of("budget: {ledger: leased, limit: 2000, demand_by: agent, nodes: 3}")
                .find("s.yaml:25: budget.nodes: is 3, but demand_by: agent holds one node per agent replica (5 here)"),
            std::string::npos);
  EXPECT_NE(error_of("budget: {ledger: leased, limit: 2000, demand_by: agent, demand_skew: 2}")
                .find("budget.demand_skew: applies to demand_by: zipf only"),
            std::string::npos);
  EXPECT_NE(error_of("budget: {ledger: leased, limit: 2000, demand_by: role}")
                .find("budget.demand_by: \"role\" is not a demand split (allowed: zipf, agent)"),
            std::string::npos);
}

TEST(ScenarioLoader, EveryErrorHasItsLineAndKeyPath) {
  const ScenarioLoad load = load_scenario(R"(duration: 40
load: {tasks_per_second: 1, colour: red}
hop_costs: {gateway: {p50: 3ms}}
graph:
  agents:
    - name: a
      steps:
        - {agent: nobody}
        - parallel: [{llm: {}, deny: 2}]
)",
                                          "bad.yaml");
  ASSERT_FALSE(load.scenario);
  std::vector<std::string> lines;
  for (const auto& e : load.errors) lines.push_back(e.to_string());
  const auto has = [&](const std::string& text) {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("bad.yaml:1: duration: must be a time with its unit")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("bad.yaml:2: load.colour: unknown key")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("bad.yaml:3: hop_costs.gateway: needs both p50 and p99")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("bad.yaml:8: graph.agents[0].steps[0].agent: names no agent")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has("bad.yaml:9: graph.agents[0].steps[1].parallel[0].deny: must be between 0 and 1"))
      << ::testing::PrintToString(lines);
}

TEST(ScenarioLoader, RefusesAGraphThatNeverEnds) {
  const ScenarioLoad load = load_scenario(R"(load: {tasks_per_second: 1}
graph:
  agents:
    - {name: a, steps: [{agent: b}]}
    - {name: b, steps: [{agent: a, deny: 0.5}]}
)",
                                          "loop.yaml");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_NE(load.errors[0].message.find("can reach itself"), std::string::npos) << load.errors[0].to_string();
}

TEST(ScenarioLoader, NeedsALoadAndValidYaml) {
  EXPECT_FALSE(load_scenario("graph: {generate: {depth: 1}}\n", "x.yaml").scenario);
  const ScenarioLoad broken = load_scenario("graph: [\n", "broken.yaml");
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_NE(broken.errors[0].message.find("not valid YAML"), std::string::npos);
}

// A graph too large to walk is an error, before it is built or sampled.
TEST(ScenarioLoader, RefusesAGraphTooLargeToSimulate) {
  const ScenarioLoad wide = load_scenario(
      "load: {tasks_per_second: 1}\ngraph: {generate: {depth: 32, roles_per_level: 1000000}}\n", "wide.yaml");
  ASSERT_EQ(wide.errors.size(), 1u);
  EXPECT_EQ(wide.errors[0].key_path, "graph.generate");
  const ScenarioLoad deep = load_scenario(
      "load: {tasks_per_second: 1}\ngraph: {generate: {depth: 20, roles_per_level: 1, fan_out: 8}}\n", "deep.yaml");
  ASSERT_EQ(deep.errors.size(), 1u);
  EXPECT_NE(deep.errors[0].message.find("at most 1000000 are simulated"), std::string::npos);
  const ScenarioLoad instant = load_scenario(
      "duration: 0h\nload: {tasks_per_second: 1}\ngraph: {generate: {depth: 1}}\n", "instant.yaml");
  ASSERT_EQ(instant.errors.size(), 1u);
  EXPECT_EQ(instant.errors[0].key_path, "duration");
}

// Found by fuzz_sim_scenario_loader: a key that is not a plain scalar threw out of the loader.
TEST(ScenarioLoader, AKeyThatIsNotAWordIsAnErrorNotAThrow) {
  for (const char* text : {"load: {[tasks_per_second]: 4}\n", "load: {tasks_per_second: 4, ? {a: 1} : 2}\n",
                           "load: {: 4}\n"}) {
    ScenarioLoad load;
    ASSERT_NO_THROW(load = load_scenario(text, "keys.yaml")) << text;
    EXPECT_FALSE(load.scenario) << text;
    ASSERT_FALSE(load.errors.empty()) << text;
  }
}

TEST(ScenarioLoader, TimeUnits) {
  EXPECT_DOUBLE_EQ(*parse_time_us("56us"), 56);
  EXPECT_DOUBLE_EQ(*parse_time_us("3ms"), 3000);
  EXPECT_DOUBLE_EQ(*parse_time_us("1.5s"), 1.5e6);
  EXPECT_DOUBLE_EQ(*parse_time_us("1h"), 3600e6);
  EXPECT_FALSE(parse_time_us("3"));
  EXPECT_FALSE(parse_time_us("ms"));
  EXPECT_FALSE(parse_time_us("3 ms"));
  EXPECT_FALSE(parse_time_us("-3ms"));
}

}  // namespace
}  // namespace tollway::sim
