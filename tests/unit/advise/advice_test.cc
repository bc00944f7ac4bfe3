// Fixed questionnaires give the framework's answers per traffic class, and measurements that contradict the
// questionnaire are said, one line each.
#include "advise/advice.h"

#include <gtest/gtest.h>

#include "advise/advice_report.h"

namespace tollway::advise {
namespace {

Lean advice_for(const Advice& a, TrafficClass c) {
  for (const auto& ca : a.classes)
    if (ca.traffic_class == c) return ca.advice;
  throw std::logic_error("class missing");
}

bool says(const Advice& a, std::string_view text) {
  for (const auto& d : a.disagreements)
    if (d.find(text) != std::string::npos) return true;
  return false;
}

// The seed's small team: "Start with a centralized gateway only."
Questionnaire small_team() {
  Questionnaire q;
  q.traffic = Traffic::NorthSouth;
  q.team_size = 6;
  q.sre = Sre::None;
  q.limits = Limits::Hard;
  q.compliance = Compliance::Standard;
  q.observability = Observability::Dashboard;
  return q;
}

// The seed's platform-mature team with east-west agent graphs.
Questionnaire platform_team() {
  Questionnaire q;
  q.traffic = Traffic::EastWest;
  q.team_size = 60;
  q.sre = Sre::Dedicated;
  q.limits = Limits::Soft;
  q.compliance = Compliance::Standard;
  q.observability = Observability::PerCall;
  return q;
}

TEST(Advice, SmallTeamGetsAGatewayForEverything) {
  const Advice a = advise(small_team(), std::nullopt);
  EXPECT_EQ(a.gateway_points, 8);
  EXPECT_EQ(a.sidecar_points, 0);
  EXPECT_EQ(advice_for(a, TrafficClass::NorthSouth), Lean::Gateway);
  EXPECT_EQ(advice_for(a, TrafficClass::EastWest), Lean::Gateway);
  EXPECT_EQ(advice_for(a, TrafficClass::Tool), Lean::Gateway);
  EXPECT_TRUE(a.disagreements.empty());
}

TEST(Advice, PlatformTeamGetsTheHybrid) {
  const Advice a = advise(platform_team(), std::nullopt);
  EXPECT_EQ(a.sidecar_points, 8);
  EXPECT_EQ(advice_for(a, TrafficClass::EastWest), Lean::Sidecar);
  EXPECT_EQ(advice_for(a, TrafficClass::Tool), Lean::Sidecar);
  // Provider calls stay at the gateway (layer 1), through each agent's sidecar for per-call tracing.
  EXPECT_EQ(advice_for(a, TrafficClass::NorthSouth), Lean::Both);
}

TEST(Advice, PrioritiesBreakATie) {
  Questionnaire q = platform_team();
  q.limits = Limits::Hard;             // gateway 2
  q.compliance = Compliance::Hipaa;    // gateway 2
  q.traffic = Traffic::Mixed;          // neither
  const Advice tie = advise(q, std::nullopt);
  EXPECT_EQ(tie.gateway_points, tie.sidecar_points);
  EXPECT_EQ(advice_for(tie, TrafficClass::EastWest), Lean::Gateway);  // a tie starts with the gateway
  q.priorities[Factor::Observability] = Priority::High;
  EXPECT_EQ(advice_for(advise(q, std::nullopt), TrafficClass::EastWest), Lean::Sidecar);
}

TEST(Advice, NothingSaidStartsWithAGateway) {
  const Advice a = advise(Questionnaire{}, std::nullopt);
  EXPECT_EQ(advice_for(a, TrafficClass::EastWest), Lean::Gateway);
  EXPECT_NE(a.classes[1].why.find("nothing answered"), std::string::npos);
}

FleetMeasurement fleet_with(uint64_t north_south, uint64_t east_west) {
  FleetMeasurement m;
  m.traces = TraceFacts{};
  m.traces->calls = {{CallClass::NorthSouth, north_south}, {CallClass::EastWest, east_west}};
  m.traces->traces_with_calls = 10;
  return m;
}

TEST(Advice, MeasuredTopologyContradictsTheQuestionnaire) {
  const Advice a = advise(small_team(), fleet_with(20, 80));
  EXPECT_TRUE(says(a, "topology: you said north-south; the traces show 80% of calls east-west")) << a.disagreements.size();
  EXPECT_TRUE(advise(small_team(), fleet_with(90, 10)).disagreements.empty());
}

TEST(Advice, ADashboardIsNotEnoughForDeepChainsOnlyForWideOnes) {
  FleetMeasurement m = fleet_with(90, 10);
  m.traces->calls_per_trace = Spread{10, 12, 12, 12, 12};  // many calls per trace ...
  m.traces->depth_per_trace = Spread{10, 1, 2, 2, 1.5};    // ... side by side: a fan-out
  EXPECT_FALSE(says(advise(small_team(), m), "hops"));
  m.traces->depth_per_trace = Spread{10, 6, 9, 11, 6.5};
  EXPECT_TRUE(says(advise(small_team(), m), "yet the p95 trace chains 9 hops (the seed's 8 to 15)"));
}

TEST(Advice, HardLimitsButLeasedBudgets) {
  FleetMeasurement m = fleet_with(90, 10);
  m.budgets = std::vector<LeasedBudget>{{"budget|mesh|day", 1000, 1010, 0, 10, 3}};
  const Advice a = advise(small_team(), m);
  EXPECT_TRUE(says(a, "limits: you said hard; 1 budget key(s) are leased")) << a.disagreements.front();
  EXPECT_TRUE(says(a, "measured overspend 10"));
  EXPECT_TRUE(says(advise(platform_team(), m), "limits: leased budgets overspent by 10"));
}

TEST(Advice, PerCallTracingWithOrphans) {
  FleetMeasurement m = fleet_with(10, 90);
  m.traces->orphan_traces = 2;
  EXPECT_TRUE(says(advise(platform_team(), m), "2 of 10 (20%) traces were started by a call whose agent dropped"));
  FleetMeasurement no_sidecars = fleet_with(50, 0);
  EXPECT_TRUE(says(advise(platform_team(), no_sidecars), "no east-west call reached the trace window"));
}

TEST(Advice, SmallTeamRunningDriftingSidecars) {
  FleetMeasurement m = fleet_with(90, 10);
  m.fleet = FleetFacts{};
  NodeFacts sidecar;
  sidecar.id = "a";
  sidecar.role = "sidecar";
  sidecar.drifted = true;
  m.fleet->nodes = {sidecar};
  EXPECT_TRUE(says(advise(small_team(), m),
                   "team: 6 engineers, SRE none runs 1 sidecars, 1 node(s) drifted or NACKing now and 0 NACK(s) on record"));
  // A NACK on record counts too, though no node holds one now.
  m.fleet->nodes.front().drifted = false;
  EXPECT_FALSE(says(advise(small_team(), m), "team:"));
  m.fleet->nacks = NackHistory{3, 2, "2026-12-07T10:00:00Z", "a", "v2", "bad limit"};
  EXPECT_TRUE(says(advise(small_team(), m), "0 node(s) drifted or NACKing now and 3 NACK(s) on record"));
}

TEST(Advice, SidecarShareOfCpuAgainstTheSeedsFigure) {
  FleetMeasurement m = fleet_with(90, 10);
  m.fleet = FleetFacts{};
  NodeFacts sidecar;
  sidecar.role = "sidecar";
  sidecar.cpu_cores = 1.0;
  m.fleet->nodes = {sidecar, sidecar};
  Questionnaire q = small_team();
  EXPECT_FALSE(sidecar_cpu_share(m, q));  // the workload's use was not said: not computed
  q.workload_cpu_cores = 2.0;
  EXPECT_DOUBLE_EQ(*sidecar_cpu_share(m, q), 0.5);
  EXPECT_TRUE(says(advise(q, m), "sidecars use 50% of the CPU"));
  q.workload_cpu_cores = 18.0;
  EXPECT_FALSE(says(advise(q, m), "resources"));
}

TEST(AdviceReport, TextFitsOneScreen) {
  FleetMeasurement m = fleet_with(118, 59);
  m.traces->traces_by_calls = {{4, 7}, {5, 28}, {6, 5}};
  m.budgets = std::vector<LeasedBudget>{{"budget|mesh-llm-tokens||||||day|2026-05-17", 200000, 1424, 60000, 0, 3}};
  m.fleet = FleetFacts{};
  m.gaps = {"/v1/history: HTTP 404"};
  Questionnaire q = small_team();
  q.workload_cpu_cores = 3;
  const std::string text = advice_text(advise(q, m, "https://127.0.0.1:1234"));
  std::size_t lines = 0;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start)) {
    ++lines;
    std::size_t columns = 0;
    for (std::size_t i = start; i < nl; ++i) columns += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    EXPECT_LE(columns, 120u) << text.substr(start, nl - start);
  }
  EXPECT_LE(lines, 40u) << text;
  EXPECT_NE(text.find("north-south LLM calls"), std::string::npos);
  EXPECT_NE(text.find("not measured /v1/history: HTTP 404"), std::string::npos) << text;
  // A line wider than the screen goes on on the next line, never cut.
  EXPECT_EQ(text.find('~'), std::string::npos) << text;
  for (const auto& d : advise(q, m, "https://127.0.0.1:1234").disagreements)
    EXPECT_NE(text.find(d.substr(d.size() - 12)), std::string::npos) << d << " in " << text;
}

TEST(AdviceReport, JsonNamesEveryPart) {
  const std::string json = advice_json(advise(platform_team(), fleet_with(1, 3)));
  for (const char* key : {"\"questionnaire\":", "\"factors\":", "\"score\":", "\"recommendations\":",
                          "\"disagreements\":", "\"measured\":", "\"east_west_share\":0.75"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
}

}  // namespace
}  // namespace tollway::advise
