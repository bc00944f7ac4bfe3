#include "control/rollout/rollout.h"

#include <gtest/gtest.h>

namespace tollway::control::rollout {
namespace {

using namespace std::chrono_literals;

class RolloutTest : public ::testing::Test {
 protected:
  RolloutTest() {
    spec.hold = 10s;
    spec.min_requests = 40;
    spec.max_error_rate_increase = 0.01;
    spec.max_deny_rate_increase = 0.05;
  }
  Rollout make() {
    RolloutRecord record;
    record.revision = "2-bbbbbbbbbbbb";
    record.stable = "1-aaaaaaaaaaaa";
    record.canary_nodes = {"gw-a"};
    record.spec = spec;
    record.started_ms = unix_ms(start);
    return Rollout(record, {{"gw-a", "new-a"}, {"gw-b", "old-b"}, {"gw-c", "old-c"}});
  }
  RolloutSpec spec;
  Clock::time_point start = Clock::time_point(std::chrono::seconds(1'800'000'000));
};

TEST_F(RolloutTest, HoldsUntilTheCanaryAnsweredMinRequests) {
  Rollout r = make();
  r.report("gw-a", "new-a", {39, 0, 39});  // every request denied, but too few to judge
  const auto v = r.judge(start + 1h);
  EXPECT_EQ(v.phase, Phase::Canary);
  EXPECT_EQ(v.reason, "waiting for the canary to answer 1 more requests (39 of min_requests 40)");
}

TEST_F(RolloutTest, RollsBackOnTheDenyRateAboveTheBaselineWithoutWaitingForTheHold) {
  Rollout r = make();
  r.report("gw-b", "old-b", {1000, 0, 0});  // the baseline counts from the canary's start
  r.report("gw-b", "old-b", {1040, 0, 0});
  r.report("gw-a", "new-a", {40, 0, 40});
  const auto v = r.judge(start + 1s);
  EXPECT_EQ(v.phase, Phase::RolledBack);
  EXPECT_EQ(v.reason, "canary deny rate 100.0% over 40 requests vs baseline 0.0% (threshold +5%)");
  EXPECT_EQ(r.baseline_counts().requests, 40u);
}

TEST_F(RolloutTest, ARateAsHighAsTheBaselinesIsNoRegression) {
  Rollout r = make();
  r.report("gw-b", "old-b", {0, 0, 0});
  r.report("gw-b", "old-b", {100, 0, 30});
  r.report("gw-a", "new-a", {100, 0, 34});  // 34% vs 30%: +4 points, within +5
  EXPECT_EQ(r.judge(start + 1s).phase, Phase::Canary);
  EXPECT_EQ(r.judge(start + 1s).reason, "holding 9s more");
  r.report("gw-a", "new-a", {200, 0, 72});  // 36% vs 30%: past the threshold
  EXPECT_EQ(r.judge(start + 2s).reason, "canary deny rate 36.0% over 200 requests vs baseline 30.0% (threshold +5%)");
}

TEST_F(RolloutTest, RollsBackOnTheErrorRate) {
  Rollout r = make();
  r.report("gw-a", "new-a", {50, 1, 0});  // 2% of 5xx against a baseline without traffic (0%): past +1%
  const auto v = r.judge(start + 1s);
  EXPECT_EQ(v.phase, Phase::RolledBack);
  EXPECT_EQ(v.reason, "canary error rate 2.0% over 50 requests vs baseline 0.0% (threshold +1%)");
}

TEST_F(RolloutTest, PromotesAfterTheHoldWithinTheThresholds) {
  Rollout r = make();
  r.report("gw-c", "old-c", {5, 0, 0});
  r.report("gw-c", "old-c", {85, 0, 0});
  r.report("gw-a", "new-a", {60, 0, 0});
  EXPECT_EQ(r.judge(start + 9s).phase, Phase::Canary);
  const auto v = r.judge(start + 10s);
  EXPECT_EQ(v.phase, Phase::Promoted);
  EXPECT_EQ(v.reason,
            "canary error rate 0.0% and deny rate 0.0% over 60 requests vs baseline 0.0% and 0.0% over 80 requests, "
            "within +1% and +5% after a hold of 10s");
}

TEST_F(RolloutTest, CountsOnlyTheVersionEachNodeIsJudgedOn) {
  Rollout r = make();
  r.report("gw-a", "old-a", {500, 0, 500});  // the canary node before it applied the candidate
  r.report("gw-b", "new-b", {500, 500, 0});  // not the baseline's version
  r.report("gw-x", "new-a", {500, 0, 500});  // not a node of this rollout
  EXPECT_EQ(r.canary_counts().requests, 0u);
  EXPECT_EQ(r.baseline_counts().requests, 0u);
}

TEST_F(RolloutTest, ARestartedNodeKeepsWhatItHadAnswered) {
  Rollout r = make();
  r.report("gw-a", "new-a", {30, 0, 0});
  r.report("gw-a", "new-a", {5, 0, 5});  // counts began again
  r.report("gw-a", "new-a", {10, 0, 10});
  const Counts c = r.canary_counts();
  EXPECT_EQ(c.requests, 40u);
  EXPECT_EQ(c.denials, 10u);
}

TEST_F(RolloutTest, ACanaryNackRollsBack) {
  Rollout r = make();
  r.refused("gw-b", "not a canary node");
  EXPECT_EQ(r.judge(start + 1s).phase, Phase::Canary);
  r.refused("gw-a", "routes[0].provider: unknown");
  const auto v = r.judge(start + 1s);
  EXPECT_EQ(v.phase, Phase::RolledBack);
  EXPECT_EQ(v.reason, "canary node gw-a refused the version: routes[0].provider: unknown");
}

TEST_F(RolloutTest, AZeroThresholdRefusesAnyIncrease) {
  spec.max_deny_rate_increase = 0;
  Rollout r = make();
  r.report("gw-a", "new-a", {1000, 0, 1});
  EXPECT_EQ(r.judge(start + 1s).phase, Phase::RolledBack);
}

}  // namespace
}  // namespace tollway::control::rollout
