#include "providers/resilience/endpoint_health.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tollway::providers::resilience {
namespace {

using namespace std::chrono_literals;

config::BreakerConfig policy(uint32_t failures = 3, std::chrono::milliseconds base = 1000ms,
                             std::chrono::milliseconds max = 10'000ms) {
  config::BreakerConfig p;
  p.failures = failures;
  p.base_ejection = base;
  p.max_ejection = max;
  return p;
}

constexpr std::chrono::microseconds kLatency{1000};

TEST(EndpointHealth, StartsClosedAndAdmits) {
  EndpointHealth h("p", "http://a:80");
  BreakerTransition t;
  const auto now = Clock::now();
  EXPECT_EQ(h.state(), BreakerState::Closed);
  EXPECT_TRUE(h.admissible(now));
  EXPECT_EQ(h.admit(now, t), EndpointHealth::Admission::Admitted);
  EXPECT_EQ(t, BreakerTransition::None);
}

TEST(EndpointHealth, EjectsAfterConsecutiveFailuresOnly) {
  EndpointHealth h("p", "u");
  const auto p = policy(3);
  const auto now = Clock::now();
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.record(EndpointVerdict::Success, false, kLatency, now, p), BreakerTransition::None);  // resets
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.record(EndpointVerdict::Neutral, false, {}, now, p), BreakerTransition::None);  // 429: no reset
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.state(), BreakerState::Closed);
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  EXPECT_EQ(h.state(), BreakerState::Open);
  EXPECT_EQ(h.ejections(), 1u);
  EXPECT_EQ(h.ejected_until(), now + 1000ms);
  // More failures of requests that were already in flight change nothing.
  EXPECT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.ejections(), 1u);
}

TEST(EndpointHealth, OpenRefusesUntilTheEjectionEndsThenAdmitsExactlyOneProbe) {
  EndpointHealth h("p", "u");
  const auto p = policy(1);
  const auto t0 = Clock::now();
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, t0, p), BreakerTransition::Ejected);
  BreakerTransition t;
  EXPECT_FALSE(h.admissible(t0 + 999ms));
  EXPECT_EQ(h.admit(t0 + 999ms, t), EndpointHealth::Admission::Refused);
  EXPECT_TRUE(h.admissible(t0 + 1000ms));
  EXPECT_EQ(h.admit(t0 + 1000ms, t), EndpointHealth::Admission::Probe);
  EXPECT_EQ(t, BreakerTransition::Probing);
  EXPECT_EQ(h.state(), BreakerState::HalfOpen);
  EXPECT_EQ(h.admit(t0 + 1001ms, t), EndpointHealth::Admission::Refused);  // the probe is out
  EXPECT_FALSE(h.admissible(t0 + 1001ms));
  // A non-probe success (a request admitted before the ejection) does not close the breaker.
  EXPECT_EQ(h.record(EndpointVerdict::Success, false, kLatency, t0 + 1002ms, p), BreakerTransition::None);
  EXPECT_EQ(h.state(), BreakerState::HalfOpen);
  EXPECT_EQ(h.record(EndpointVerdict::Success, true, kLatency, t0 + 1003ms, p), BreakerTransition::Restored);
  EXPECT_EQ(h.state(), BreakerState::Closed);
  EXPECT_EQ(h.admit(t0 + 1004ms, t), EndpointHealth::Admission::Admitted);
}

TEST(EndpointHealth, FailedProbesEjectForBaseTimesEjectionsUpToTheMaximum) {
  EndpointHealth h("p", "u");
  const auto p = policy(1, 1000ms, 2500ms);
  auto now = Clock::now();
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  EXPECT_EQ(h.ejected_until() - now, 1000ms);
  BreakerTransition t;
  now = h.ejected_until();
  ASSERT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
  EXPECT_EQ(h.record(EndpointVerdict::Failure, true, {}, now, p), BreakerTransition::ReEjected);
  EXPECT_EQ(h.ejected_until() - now, 2000ms);
  now = h.ejected_until();
  ASSERT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
  EXPECT_EQ(h.record(EndpointVerdict::Failure, true, {}, now, p), BreakerTransition::ReEjected);
  EXPECT_EQ(h.ejected_until() - now, 2500ms);  // capped
  EXPECT_EQ(h.ejections(), 3u);
}

TEST(EndpointHealth, AnEjectionSoonAfterARestoreIsLongerOneLongAfterStartsOver) {
  EndpointHealth h("p", "u");
  const auto p = policy(1, 1000ms, 5000ms);
  auto now = Clock::now();
  BreakerTransition t;
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  now = h.ejected_until();
  ASSERT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
  ASSERT_EQ(h.record(EndpointVerdict::Success, true, kLatency, now, p), BreakerTransition::Restored);
  now += 100ms;  // fails again right away: same episode
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  EXPECT_EQ(h.ejected_until() - now, 2000ms);
  now = h.ejected_until();
  ASSERT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
  ASSERT_EQ(h.record(EndpointVerdict::Success, true, kLatency, now, p), BreakerTransition::Restored);
  now += 5000ms;  // healthy for max_ejection: a new episode
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  EXPECT_EQ(h.ejected_until() - now, 1000ms);
}

TEST(EndpointHealth, AProbeWithoutAVerdictLetsTheNextRequestProbe) {
  EndpointHealth h("p", "u");
  const auto p = policy(1);
  auto now = Clock::now();
  BreakerTransition t;
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, now, p), BreakerTransition::Ejected);
  now = h.ejected_until();
  ASSERT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
  EXPECT_EQ(h.record(EndpointVerdict::Neutral, true, {}, now, p), BreakerTransition::None);
  EXPECT_EQ(h.state(), BreakerState::Open);
  EXPECT_EQ(h.admit(now, t), EndpointHealth::Admission::Probe);
}

TEST(EndpointHealth, LatencyEwmaStartsAtTheFirstSampleAndMovesTowardsNewOnes) {
  EndpointHealth h("p", "u");
  const auto p = policy();
  const auto now = Clock::now();
  EXPECT_EQ(h.latency_ewma_us(), 0);
  h.record(EndpointVerdict::Success, false, std::chrono::microseconds(1000), now, p);
  EXPECT_EQ(h.latency_ewma_us(), 1000);
  h.record(EndpointVerdict::Success, false, std::chrono::microseconds(2000), now, p);
  EXPECT_EQ(h.latency_ewma_us(), 1300);  // 1000 + 0.3 x 1000
  h.record(EndpointVerdict::Failure, false, std::chrono::microseconds(90000), now, p);  // failures: no sample
  EXPECT_EQ(h.latency_ewma_us(), 1300);
}

TEST(EndpointHealth, ConcurrentCallersGetExactlyOneProbe) {
  EndpointHealth h("p", "u");
  const auto p = policy(1, 1ms, 1ms);
  const auto t0 = Clock::now();
  ASSERT_EQ(h.record(EndpointVerdict::Failure, false, {}, t0, p), BreakerTransition::Ejected);
  std::atomic<int> probes{0}, admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) {
        BreakerTransition t;
        const auto a = h.admit(t0 + 10ms, t);
        if (a == EndpointHealth::Admission::Probe) probes++;
        if (a == EndpointHealth::Admission::Admitted) admitted++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(probes.load(), 1);
  EXPECT_EQ(admitted.load(), 0);
}

}  // namespace
}  // namespace tollway::providers::resilience
