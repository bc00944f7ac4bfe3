// The seed's five factors, each in each direction it argues, and silence where nothing was said.
#include "advise/factors.h"

#include <gtest/gtest.h>

namespace tollway::advise {
namespace {

const FactorScore& score(const std::vector<FactorScore>& scores, Factor f) {
  for (const auto& s : scores)
    if (s.factor == f) return s;
  throw std::logic_error("factor missing");
}

Lean lean_of(const Questionnaire& q, Factor f) { return score(score_factors(q, nullptr), f).lean; }

TEST(Factors, NothingSaidLeansNowhere) {
  const auto scores = score_factors(Questionnaire{}, nullptr);
  ASSERT_EQ(scores.size(), 5u);
  for (const auto& s : scores) {
    EXPECT_EQ(s.lean, Lean::Unanswered) << name_of(s.factor);
    EXPECT_TRUE(s.seed.empty());
  }
}

TEST(Factors, TopologyNorthSouthGatewayEastWestSidecarMixedBoth) {
  Questionnaire q;
  q.traffic = Traffic::NorthSouth;
  EXPECT_EQ(lean_of(q, Factor::Topology), Lean::Gateway);
  q.traffic = Traffic::EastWest;
  EXPECT_EQ(lean_of(q, Factor::Topology), Lean::Sidecar);
  EXPECT_NE(score(score_factors(q, nullptr), Factor::Topology).seed.find("Sidecars win decisively"), std::string::npos);
  q.traffic = Traffic::Mixed;
  EXPECT_EQ(lean_of(q, Factor::Topology), Lean::Both);
}

TEST(Factors, TopologyFromMeasuredShareWhenNotSaid) {
  FleetMeasurement m;
  m.traces = TraceFacts{};
  m.traces->calls = {{CallClass::NorthSouth, 10}, {CallClass::EastWest, 30}};
  const auto scores = score_factors(Questionnaire{}, &m);
  const auto& s = score(scores, Factor::Topology);
  EXPECT_TRUE(s.measured);
  EXPECT_EQ(s.lean, Lean::Sidecar);
  EXPECT_EQ(s.answer, "75% of calls east-west");
  // What the team says wins over the measurement (the disagreement is reported by advise()).
  Questionnaire q;
  q.traffic = Traffic::NorthSouth;
  EXPECT_FALSE(score(score_factors(q, &m), Factor::Topology).measured);
  EXPECT_EQ(traffic_of_share(0.2), Traffic::NorthSouth);
  EXPECT_EQ(traffic_of_share(0.5), Traffic::Mixed);
  EXPECT_EQ(traffic_of_share(0.7), Traffic::EastWest);
}

TEST(Factors, TeamSmallGatewayLargeWithDedicatedSreSidecar) {
  Questionnaire q;
  q.team_size = 6;
  EXPECT_EQ(lean_of(q, Factor::Team), Lean::Gateway);
  q.sre = Sre::Dedicated;  // still under 10 engineers
  EXPECT_EQ(lean_of(q, Factor::Team), Lean::Gateway);
  q.team_size = 40;
  EXPECT_EQ(lean_of(q, Factor::Team), Lean::Sidecar);
  EXPECT_NE(score(score_factors(q, nullptr), Factor::Team).seed.find("dedicated SRE capacity"), std::string::npos);
  q.sre = Sre::None;
  EXPECT_EQ(lean_of(q, Factor::Team), Lean::Gateway);
  q.sre = Sre::PartTime;  // large but not platform-mature: start with a gateway
  EXPECT_EQ(lean_of(q, Factor::Team), Lean::Gateway);
}

TEST(Factors, LimitsHardGatewaySoftSidecar) {
  Questionnaire q;
  q.limits = Limits::Hard;
  EXPECT_EQ(lean_of(q, Factor::Limits), Lean::Gateway);
  EXPECT_NE(score(score_factors(q, nullptr), Factor::Limits).seed.find("synchronous token ledger"), std::string::npos);
  q.limits = Limits::Soft;
  EXPECT_EQ(lean_of(q, Factor::Limits), Lean::Sidecar);
}

TEST(Factors, ComplianceRegulatedGatewayStandardEither) {
  Questionnaire q;
  for (const Compliance c : {Compliance::Soc2, Compliance::Hipaa, Compliance::Fedramp, Compliance::Pci}) {
    q.compliance = c;
    EXPECT_EQ(lean_of(q, Factor::Compliance), Lean::Gateway) << name_of(c);
  }
  q.compliance = Compliance::Standard;
  EXPECT_EQ(lean_of(q, Factor::Compliance), Lean::Both);
}

TEST(Factors, ObservabilityPerCallSidecarDashboardGateway) {
  Questionnaire q;
  q.observability = Observability::PerCall;
  EXPECT_EQ(lean_of(q, Factor::Observability), Lean::Sidecar);
  q.observability = Observability::Dashboard;
  EXPECT_EQ(lean_of(q, Factor::Observability), Lean::Gateway);
}

TEST(Factors, PriorityCarried) {
  Questionnaire q;
  q.priorities[Factor::Limits] = Priority::High;
  EXPECT_EQ(score(score_factors(q, nullptr), Factor::Limits).priority, Priority::High);
  EXPECT_EQ(score(score_factors(q, nullptr), Factor::Team).priority, Priority::Medium);
}

}  // namespace
}  // namespace tollway::advise
