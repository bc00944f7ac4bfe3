// The simulator end to end on small scenarios: a seed fixes every number; every sampled token is charged once;
// composition through the topology (a chain sums its passes, a fan-out takes its slowest branch); edge cases.
#include "advise/sim/simulation.h"

#include <gtest/gtest.h>

#include <numeric>

#include "advise/sim/hop_costs.h"
#include "advise/sim/report.h"

namespace tollway::sim {
namespace {

constexpr std::size_t kGateway = 1, kSidecar = 2, kHybrid = 3;

LlmCall small_llm() {
  LlmCall c;
  c.latency_us = Distribution::lognormal_p50_p99(800, 3000);
  c.prompt_tokens = Distribution::lognormal_p50_p99(20, 80);
  c.completion_tokens = Distribution::lognormal_p50_p99(30, 200);
  c.max_tokens = 64;
  return c;
}

Scenario generated(uint64_t seed) {
  GraphSpec spec;
  spec.depth = 3;
  spec.roles_per_level = 3;
  spec.replicas = 10;
  spec.fan_out = Distribution::discrete({0, 1, 2, 3}, {0.1, 0.4, 0.3, 0.2});
  spec.llm_deny = 0.1;
  spec.east_west_deny = 0.05;
  spec.work_us = Distribution::lognormal_p50_p99(300, 2000);
  spec.llm = small_llm();
  Scenario s;
  s.seed = seed;
  s.duration_s = 30;
  s.tasks_per_second = 50;
  s.north_south_share = 0.5;
  s.latency_samples = 20000;
  s.hops = default_hop_costs();
  s.resources = default_resources();
  s.graph = generate_graph(spec);
  s.budget.limit_tokens = 100000;
  return s;
}

// A chain of `hops` agents calling the next, every pass `cost_us`, no work, no LLM.
Scenario chain(int hops, double cost_us) {
  Scenario s;
  s.tasks_per_second = 1;
  s.latency_samples = 100;
  const Distribution cost = Distribution::constant(cost_us);
  s.hops = HopCosts{cost, cost, cost, cost};
  GraphSpec spec;
  spec.depth = hops;
  spec.fan_out = Distribution::constant(1);
  spec.llm_steps = 0;
  spec.llm = small_llm();
  s.graph = generate_graph(spec);
  return s;
}

TEST(Simulation, TheSameSeedGivesTheSameResultAndAnotherSeedDoesNot) {
  const Scenario a = generated(11);
  const std::string first = render_json(a, simulate(a));
  EXPECT_EQ(first, render_json(a, simulate(a)));
  const Scenario b = generated(12);
  EXPECT_NE(first, render_json(b, simulate(b)));
}

TEST(Simulation, EverySampledTokenIsChargedOnceToTheRoleThatCalled) {
  const Scenario s = generated(5);
  const SimResult r = simulate(s);
  const TokenTally& t = r.sample.tokens;
  ASSERT_GT(t.llm_calls_admitted, 0);
  ASSERT_GT(t.llm_calls_refused, 0);
  const double charged = std::accumulate(t.charged_by_role.begin(), t.charged_by_role.end(), 0.0);
  EXPECT_DOUBLE_EQ(charged, t.tokens);
  // Every role that can make an LLM call was charged something; what a refused call would have cost was not.
  for (std::size_t i = 0; i < t.charged_by_role.size(); ++i) EXPECT_GT(t.charged_by_role[i], 0) << s.graph.roles[i].name;
  // The sampled call mix agrees with the closed form (3 standard errors is generous at 20,000 tasks).
  EXPECT_NEAR(r.sample.north_south_calls, r.calls_per_task.north_south, 0.05 * r.calls_per_task.north_south);
  EXPECT_NEAR(r.sample.east_west_calls, r.calls_per_task.east_west, 0.05 * r.calls_per_task.east_west);
  // The leased budget: each demanded token is served once or denied, never both.
  ASSERT_TRUE(r.lease);
  EXPECT_NEAR(r.lease->served + r.lease->denied, r.lease->demanded, 1e-6 * r.lease->demanded);
  EXPECT_LE(r.lease->overspend, r.lease->bound() + 0.5);
}

// budget.demand_by: agent: one node per agent replica, each with its role's share of the sampled tokens — a role
// that makes no LLM call gets a node that spends nothing, a role's replicas share its demand.
TEST(Simulation, DemandByAgentGivesEachReplicaItsRolesTokens) {
  Scenario s;
  s.duration_s = 20;
  s.tasks_per_second = 200;
  s.latency_samples = 5000;
  s.hops = default_hop_costs();
  s.graph.llm_calls.push_back(small_llm());
  Role caller{"caller", 1, Distribution(), {Step{{Call{Call::Kind::Agent, 1, -1, Distribution::constant(1)}}}}};
  Role worker{"worker", 2, Distribution(), {Step{{Call{Call::Kind::Llm, -1, 0, Distribution::constant(1)}}}}};
  s.graph.roles = {caller, worker};
  s.budget.limit_tokens = 1e12;
  s.budget.demand_by = BudgetModel::DemandBy::Agent;
  const SimResult r = simulate(s);
  ASSERT_TRUE(r.lease);
  ASSERT_EQ(r.lease->served_by_node.size(), 3u);
  EXPECT_DOUBLE_EQ(r.lease->served_by_node[0], 0);
  EXPECT_NEAR(r.lease->served_by_node[1], r.lease->served_by_node[2], 0.05 * r.lease->served);
  EXPECT_NEAR(r.lease->served + r.lease->denied, r.lease->demanded, 1e-6 * r.lease->demanded);
  EXPECT_EQ(render_json(s, r), render_json(s, simulate(s)));  // the seed fixes every number
}

TEST(Simulation, AChainSumsItsPasses) {
  const Scenario s = chain(15, 3000);  // the seed's "3 ms × 15 hops"
  const SimResult r = simulate(s);
  for (std::size_t lane : {kGateway, kSidecar, kHybrid}) {
    EXPECT_DOUBLE_EQ(r.sample.latency[lane].tax_p50_us, 45000);
    EXPECT_DOUBLE_EQ(r.sample.latency[lane].added_p99_us, 45000);
  }
  EXPECT_DOUBLE_EQ(r.sample.latency[0].tax_p50_us, 0);
  EXPECT_DOUBLE_EQ(r.calls_per_task.east_west, 15);
  EXPECT_DOUBLE_EQ(r.sample.latency[kGateway].passes_mean, 15);
  EXPECT_DOUBLE_EQ(r.sample.latency[kSidecar].passes_mean, 30);  // two sidecars per east-west call
}

TEST(Simulation, AFanOutWaitsForItsSlowestBranchAndChargesOnlyItsPath) {
  Scenario s;
  s.tasks_per_second = 1;
  s.latency_samples = 10;
  s.hops = HopCosts{Distribution::constant(100), Distribution::constant(100), Distribution::constant(100),
                    Distribution::constant(100)};
  Role root{"root", 1, {}, {}};
  Role fast{"fast", 1, Distribution::constant(1000), {}};
  Role slow{"slow", 1, Distribution::constant(5000), {}};
  Call to_fast{Call::Kind::Agent, 1, -1, Distribution::constant(3), 1, 0};
  Call to_slow{Call::Kind::Agent, 2, -1, Distribution::constant(1), 1, 0};
  root.steps.push_back(Step{{to_fast, to_slow}});
  s.graph.roles = {root, fast, slow};
  s.graph.llm_calls.push_back(small_llm());
  const SimResult r = simulate(s);
  EXPECT_DOUBLE_EQ(r.sample.latency[0].e2e_p50_us, 5000);
  EXPECT_DOUBLE_EQ(r.sample.latency[kGateway].e2e_p50_us, 5100);
  EXPECT_DOUBLE_EQ(r.sample.latency[kGateway].tax_p50_us, 100);      // only the slow branch's pass
  EXPECT_DOUBLE_EQ(r.sample.latency[kGateway].passes_mean, 4);       // yet four calls went through tollway
  EXPECT_DOUBLE_EQ(r.calls_per_task.east_west, 4);
}

TEST(Simulation, EdgeCases) {
  // A lone agent that calls nothing: no tax, no tokens, no lease run.
  Scenario lone;
  lone.tasks_per_second = 10;
  lone.latency_samples = 5;
  lone.graph.roles.push_back(Role{"solo", 1, Distribution::constant(50), {}});
  lone.graph.llm_calls.push_back(small_llm());
  lone.budget.limit_tokens = 1000;
  const SimResult r = simulate(lone);
  EXPECT_DOUBLE_EQ(r.sample.latency[kHybrid].tax_p99_us, 0);
  EXPECT_DOUBLE_EQ(r.sample.latency[kHybrid].e2e_p50_us, 50);
  EXPECT_DOUBLE_EQ(r.tokens_per_task, 0);
  EXPECT_FALSE(r.lease);
  EXPECT_DOUBLE_EQ(r.requests_represented, 0);
  // Every LLM call refused: passes are paid, nothing is charged.
  Scenario refused = chain(1, 100);
  Call llm{Call::Kind::Llm, -1, 0, Distribution::constant(1), 1, 1.0};
  refused.graph.roles[1].steps.push_back(Step{{llm}});
  const SimResult rr = simulate(refused);
  EXPECT_EQ(rr.sample.tokens.llm_calls_admitted, 0);
  EXPECT_EQ(rr.sample.tokens.llm_calls_refused, 100);
  EXPECT_DOUBLE_EQ(rr.sample.latency[kGateway].tax_p50_us, 200);
  // Requests per agent derive the task rate through the closed-form call mix.
  Scenario per_agent = chain(3, 10);
  per_agent.tasks_per_second = 0;
  per_agent.requests_per_agent_per_second = 6;  // 4 agents × 6 = 24 requests/s, 3 calls per task
  EXPECT_DOUBLE_EQ(simulate(per_agent).tasks_per_second, 8);
}

TEST(Simulation, RendersATableWithin120ColumnsAndOneJsonObject) {
  const Scenario s = generated(2);
  const SimResult r = simulate(s);
  const std::string text = render_text(s, r);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    std::size_t columns = 0;
    for (unsigned char c : line) columns += (c & 0xC0) != 0x80;  // code points, not bytes
    EXPECT_LE(columns, 120u) << line;
    start = end == std::string::npos ? text.size() : end + 1;
  }
  const std::string json = render_json(s, r);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"topology\":\"hybrid\""), std::string::npos);
  EXPECT_NE(json.find("\"within_bound\":true"), std::string::npos);
}

}  // namespace
}  // namespace tollway::sim
