#include "providers/resilience/attempt_plan.h"

#include <gtest/gtest.h>

namespace tollway::providers::resilience {
namespace {

using namespace std::chrono_literals;
using Next = AttemptPlan::Next;

config::RetryPolicy retries(uint32_t attempts = 2) {
  config::RetryPolicy p;
  p.attempts = attempts;
  p.backoff_base = 100ms;
  p.backoff_max = 1000ms;
  return p;
}

TEST(AttemptPlan, SuccessStops) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(), 2, now + 60s);
  EXPECT_EQ(plan.decide(AttemptFailure::None, std::nullopt, now, 0.5).kind, Next::Stop);
}

TEST(AttemptPlan, RetriesTheSameCandidateWithJitteredExponentialBackoff) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(3), 1, now + 60s);
  // d = min(max, base x 2^n); delay in [d/2, d)
  auto n = plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.0);
  EXPECT_EQ(n.kind, Next::Retry);
  EXPECT_EQ(n.delay, 50ms);
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.999).delay, 99ms);
  plan.advance(n);
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.0).delay, 100ms);
  plan.advance(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.0));
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.5).delay, 300ms);  // d = 400
  plan.advance(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.0));
  EXPECT_EQ(plan.retries_of_candidate(), 3u);
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0.0).kind, Next::Stop);  // budget spent
}

TEST(AttemptPlan, BackoffIsCappedByBackoffMax) {
  const auto now = Clock::now();
  auto p = retries(10);
  AttemptPlan plan(p, 1, now + 600s);
  for (int i = 0; i < 8; ++i) plan.advance(plan.decide(AttemptFailure::Connect, std::nullopt, now, 0.0));
  const auto n = plan.decide(AttemptFailure::Connect, std::nullopt, now, 0.999);
  EXPECT_EQ(n.kind, Next::Retry);
  EXPECT_LE(n.delay, 1000ms);
  EXPECT_GE(n.delay, 500ms);
}

TEST(AttemptPlan, HonoursRetryAfterUpToBackoffMax) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(), 1, now + 60s);
  auto n = plan.decide(AttemptFailure::RateLimited, 800ms, now, 0.3);
  EXPECT_EQ(n.kind, Next::Retry);
  EXPECT_EQ(n.delay, 800ms);  // exactly, no jitter
  EXPECT_EQ(plan.decide(AttemptFailure::RateLimited, 1001ms, now, 0.3).kind, Next::Stop);
  AttemptPlan with_fallback(retries(), 2, now + 60s);
  EXPECT_EQ(with_fallback.decide(AttemptFailure::RateLimited, 20s, now, 0.3).kind, Next::Fallback);
}

TEST(AttemptPlan, RetriesOnlyOnTheConfiguredConditions) {
  const auto now = Clock::now();
  auto p = retries();
  p.on_429 = false;
  AttemptPlan plan(p, 1, now + 60s);
  EXPECT_EQ(plan.decide(AttemptFailure::RateLimited, std::nullopt, now, 0).kind, Next::Stop);
  EXPECT_EQ(plan.decide(AttemptFailure::Timeout, std::nullopt, now, 0).kind, Next::Stop);  // off by default
  EXPECT_EQ(plan.decide(AttemptFailure::Closed, std::nullopt, now, 0).kind, Next::Retry);   // under "connect"
  EXPECT_EQ(plan.decide(AttemptFailure::Protocol, std::nullopt, now, 0).kind, Next::Retry);  // under "5xx"
  EXPECT_EQ(plan.decide(AttemptFailure::CircuitOpen, std::nullopt, now, 0).kind, Next::Stop);
  EXPECT_FALSE(plan.would_try_again(AttemptFailure::RateLimited, now));
  EXPECT_TRUE(plan.would_try_again(AttemptFailure::ServerError, now));
}

TEST(AttemptPlan, FallsBackOnAnyFailureOnceRetriesAreSpentAndStopsAtTheEndOfTheChain) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(1), 3, now + 60s);
  auto n = plan.decide(AttemptFailure::Connect, std::nullopt, now, 0);
  EXPECT_EQ(n.kind, Next::Retry);
  plan.advance(n);
  n = plan.decide(AttemptFailure::Connect, std::nullopt, now, 0);
  EXPECT_EQ(n.kind, Next::Fallback);
  EXPECT_EQ(n.delay, 0ms);
  plan.advance(n);
  EXPECT_EQ(plan.candidate(), 1u);
  EXPECT_EQ(plan.retries_of_candidate(), 0u);  // each candidate has its own retries
  EXPECT_EQ(plan.decide(AttemptFailure::Timeout, std::nullopt, now, 0).kind, Next::Fallback);  // no retry on timeout
  EXPECT_EQ(plan.decide(AttemptFailure::CircuitOpen, std::nullopt, now, 0).kind, Next::Fallback);
  plan.advance(plan.decide(AttemptFailure::CircuitOpen, std::nullopt, now, 0));
  EXPECT_EQ(plan.candidate(), 2u);
  EXPECT_EQ(plan.attempts_made(), 3u);
  EXPECT_EQ(plan.decide(AttemptFailure::Timeout, std::nullopt, now, 0).kind, Next::Stop);
}

TEST(AttemptPlan, NothingStartsPastTheDeadline) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(), 2, now + 60ms);
  // The shortest backoff (50 ms) fits, a retry-after of 100 ms does not: fall back instead.
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now, 0).kind, Next::Retry);
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, 100ms, now, 0).kind, Next::Fallback);
  EXPECT_EQ(plan.decide(AttemptFailure::ServerError, std::nullopt, now + 60ms, 0).kind, Next::Stop);
}

TEST(AttemptPlan, NoRetriesAndNoFallbackMeansNothingIsRepeated) {
  const auto now = Clock::now();
  AttemptPlan plan(retries(0), 1, now + 60s);
  EXPECT_FALSE(plan.may_repeat());
  EXPECT_FALSE(plan.would_try_again(AttemptFailure::ServerError, now));
}

TEST(ProviderRetryAfter, MillisecondsWinThenSecondsOrHttpDate) {
  EXPECT_EQ(provider_retry_after("250", "30", 0), 250ms);
  EXPECT_EQ(provider_retry_after(std::nullopt, "2", 0), 2000ms);
  EXPECT_EQ(provider_retry_after("x", "2", 0), 2000ms);
  EXPECT_EQ(provider_retry_after(std::nullopt, "Sun, 06 Nov 1994 08:49:47 GMT", 784111777), 10000ms);
  EXPECT_EQ(provider_retry_after(std::nullopt, "soon", 0), std::nullopt);
  EXPECT_EQ(provider_retry_after(std::nullopt, std::nullopt, 0), std::nullopt);
}

TEST(EndpointVerdictOf, FailuresAndRelayedStatuses) {
  EXPECT_EQ(endpoint_verdict(AttemptFailure::Connect, 0), EndpointVerdict::Failure);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::ServerError, 0), EndpointVerdict::Failure);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::RateLimited, 0), EndpointVerdict::Neutral);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::None, 200), EndpointVerdict::Success);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::None, 404), EndpointVerdict::Success);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::None, 429), EndpointVerdict::Neutral);
  EXPECT_EQ(endpoint_verdict(AttemptFailure::None, 503), EndpointVerdict::Failure);
  EXPECT_EQ(failure_for_status(529), AttemptFailure::ServerError);
  EXPECT_EQ(failure_for_status(404), AttemptFailure::None);
}

}  // namespace
}  // namespace tollway::providers::resilience
