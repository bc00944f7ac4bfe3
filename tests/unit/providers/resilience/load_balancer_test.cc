#include "providers/resilience/load_balancer.h"

#include <gtest/gtest.h>

#include <map>

namespace tollway::providers::resilience {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  std::vector<std::shared_ptr<EndpointHealth>> health;
  std::unique_ptr<ProviderBalancer> balancer;
  Fixture(config::LoadBalancing policy, std::vector<uint32_t> weights, uint32_t failures = 1) {
    std::vector<ProviderBalancer::Endpoint> endpoints;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      health.push_back(std::make_shared<EndpointHealth>("p", "e" + std::to_string(i)));
      endpoints.push_back({health.back(), weights[i]});
    }
    config::BreakerConfig breaker;
    breaker.failures = failures;
    breaker.base_ejection = 1000ms;
    balancer = std::make_unique<ProviderBalancer>(policy, breaker, std::move(endpoints), nullptr);
  }
  std::size_t pick_and_finish(Clock::time_point now, EndpointVerdict v = EndpointVerdict::Success) {
    auto lease = balancer->pick(now);
    EXPECT_TRUE(lease.has_value());
    const std::size_t i = lease->index();
    lease->finish(v, 1000us, now);
    return i;
  }
};

TEST(ProviderBalancer, RoundRobinVisitsEndpointsInTurn) {
  Fixture f(config::LoadBalancing::RoundRobin, {1, 1, 1});
  const auto now = Clock::now();
  std::vector<std::size_t> order;
  for (int i = 0; i < 6; ++i) order.push_back(f.pick_and_finish(now));
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(ProviderBalancer, WeightedRoundRobinFollowsTheWeights) {
  Fixture f(config::LoadBalancing::RoundRobin, {3, 1});
  const auto now = Clock::now();
  std::map<std::size_t, int> count;
  for (int i = 0; i < 400; ++i) count[f.pick_and_finish(now)]++;
  EXPECT_EQ(count[0], 300);
  EXPECT_EQ(count[1], 100);
}

TEST(ProviderBalancer, SkipsEjectedEndpointsAndReportsWhenAllAreOut) {
  Fixture f(config::LoadBalancing::RoundRobin, {1, 1});
  const auto now = Clock::now();
  EXPECT_EQ(f.pick_and_finish(now, EndpointVerdict::Failure), 0u);  // ejects endpoint 0
  EXPECT_EQ(f.health[0]->state(), BreakerState::Open);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f.pick_and_finish(now), 1u);
  EXPECT_EQ(f.pick_and_finish(now, EndpointVerdict::Failure), 1u);  // ejects endpoint 1 too
  EXPECT_FALSE(f.balancer->pick(now).has_value());
  EXPECT_EQ(f.balancer->next_probe_time(), now + 1000ms);
  // After the ejection one probe goes through; the other endpoint's probe too, then nothing until verdicts.
  auto first = f.balancer->pick(now + 1000ms);
  auto second = f.balancer->pick(now + 1000ms);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->probe() && second->probe());
  EXPECT_NE(first->index(), second->index());
  EXPECT_FALSE(f.balancer->pick(now + 1000ms).has_value());
}

TEST(ProviderBalancer, PanicUsesTheEndpointReturningFirstAndASuccessRestoresIt) {
  Fixture f(config::LoadBalancing::RoundRobin, {1, 1});
  const auto now = Clock::now();
  ASSERT_EQ(f.pick_and_finish(now + 10ms, EndpointVerdict::Failure), 0u);  // 0 ejected until now + 1010ms
  ASSERT_EQ(f.pick_and_finish(now, EndpointVerdict::Failure), 1u);         // 1 ejected until now + 1000ms
  ASSERT_FALSE(f.balancer->pick(now));
  auto panic = f.balancer->pick_in_panic();
  EXPECT_EQ(panic.index(), 1u);
  EXPECT_TRUE(panic.panic());
  EXPECT_EQ(f.health[1]->in_flight(), 1);
  panic.finish(EndpointVerdict::Failure, {}, now);  // a failure in panic changes nothing
  EXPECT_EQ(f.health[1]->state(), BreakerState::Open);
  EXPECT_EQ(f.health[1]->ejected_until(), now + 1000ms);
  EXPECT_EQ(f.health[1]->ejections(), 1u);
  auto again = f.balancer->pick_in_panic();
  EXPECT_EQ(again.finish(EndpointVerdict::Success, 1000us, now), BreakerTransition::Restored);
  EXPECT_EQ(f.health[1]->state(), BreakerState::Closed);
  auto lease = f.balancer->pick(now);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->index(), 1u);
}

TEST(ProviderBalancer, AvoidsThePreviouslyFailedEndpointWhenAnotherIsAvailable) {
  Fixture f(config::LoadBalancing::RoundRobin, {1, 1}, 100);
  const auto now = Clock::now();
  for (int i = 0; i < 4; ++i) {
    auto lease = f.balancer->pick(now, f.health[0].get());
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->index(), 1u);
  }
  Fixture single(config::LoadBalancing::RoundRobin, {1}, 100);
  auto lease = single.balancer->pick(now, single.health[0].get());
  ASSERT_TRUE(lease);  // the only endpoint is used anyway
  EXPECT_EQ(lease->index(), 0u);
}

TEST(ProviderBalancer, LeastInFlightPrefersTheLessBusyEndpoint) {
  Fixture f(config::LoadBalancing::LeastInFlight, {1, 1, 1});
  const auto now = Clock::now();
  auto a = f.balancer->pick(now);
  auto b = f.balancer->pick(now);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->index(), b->index());
  EXPECT_EQ(f.health[a->index()]->in_flight(), 1);
  auto c = f.balancer->pick(now);
  ASSERT_TRUE(c);
  EXPECT_NE(c->index(), a->index());
  EXPECT_NE(c->index(), b->index());
  // All busy once; finishing one makes it the only idle endpoint.
  const std::size_t freed = b->index();
  b->finish(EndpointVerdict::Success, 1000us, now);
  EXPECT_EQ(f.health[freed]->in_flight(), 0);
  for (int i = 0; i < 3; ++i) {
    auto d = f.balancer->pick(now);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->index(), freed);
  }
}

TEST(ProviderBalancer, LeastInFlightDividesByWeight) {
  Fixture f(config::LoadBalancing::LeastInFlight, {1, 4});
  const auto now = Clock::now();
  std::vector<EndpointLease> held;
  std::map<std::size_t, int> count;
  for (int i = 0; i < 10; ++i) {
    auto l = f.balancer->pick(now);
    ASSERT_TRUE(l);
    count[l->index()]++;
    held.push_back(std::move(*l));
  }
  EXPECT_EQ(count[0], 2);  // (in flight + 1) / weight stays balanced: 2/1 vs 8/4
  EXPECT_EQ(count[1], 8);
}

TEST(ProviderBalancer, LatencyEwmaPrefersTheFasterEndpointAndMeasuresNewOnesFirst) {
  Fixture f(config::LoadBalancing::LatencyEwma, {1, 1});
  const auto now = Clock::now();
  config::BreakerConfig p;
  f.health[0]->record(EndpointVerdict::Success, false, 5500us, now, p);
  // Endpoint 1 has no sample yet: it is tried first.
  auto first = f.balancer->pick(now);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->index(), 1u);
  first->finish(EndpointVerdict::Success, 1000us, now);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.pick_and_finish(now), 1u);
  // A slow endpoint with no load still loses to a fast one with some load until the load outweighs it.
  std::vector<EndpointLease> held;
  for (int i = 0; i < 5; ++i) {
    auto l = f.balancer->pick(now);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->index(), 1u) << i;  // 1000us x (i + 1) < 5500us
    held.push_back(std::move(*l));
  }
  auto l = f.balancer->pick(now);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->index(), 0u);  // 1000us x (5 in flight + 1) > 5500us x 1
}

TEST(EndpointLease, CountsInFlightUntilItEndsOnce) {
  Fixture f(config::LoadBalancing::RoundRobin, {1});
  const auto now = Clock::now();
  {
    auto lease = f.balancer->pick(now);
    ASSERT_TRUE(lease);
    EXPECT_EQ(f.health[0]->in_flight(), 1);
    EndpointLease moved = std::move(*lease);
    EXPECT_EQ(f.health[0]->in_flight(), 1);
    moved.finish(EndpointVerdict::Success, 1000us, now);
    EXPECT_EQ(f.health[0]->in_flight(), 0);
    moved.finish(EndpointVerdict::Failure, 1000us, now);  // ignored
    EXPECT_EQ(f.health[0]->consecutive_failures(), 0u);
  }
  EXPECT_EQ(f.health[0]->in_flight(), 0);
  { auto dropped = f.balancer->pick(now); }
  EXPECT_EQ(f.health[0]->in_flight(), 0);
}

}  // namespace
}  // namespace tollway::providers::resilience
