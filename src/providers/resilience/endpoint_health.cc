#include "providers/resilience/endpoint_health.h"

#include <algorithm>

namespace tollway::providers::resilience {

const char* breaker_state_name(BreakerState s) {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "closed";
}

BreakerState EndpointHealth::state() const {
  const int64_t b = breaker_.load(std::memory_order_acquire);
  if (b == kClosed) return BreakerState::Closed;
  if (b == kProbing) return BreakerState::HalfOpen;
  return BreakerState::Open;
}

Clock::time_point EndpointHealth::ejected_until() const {
  const int64_t b = breaker_.load(std::memory_order_acquire);
  return b > 0 ? Clock::time_point(Clock::duration(b)) : Clock::time_point{};
}

bool EndpointHealth::admissible(Clock::time_point now) const {
  const int64_t b = breaker_.load(std::memory_order_acquire);
  return b == kClosed || (b > 0 && ticks(now) >= b);
}

EndpointHealth::Admission EndpointHealth::admit(Clock::time_point now, BreakerTransition& transition) {
  transition = BreakerTransition::None;
  int64_t b = breaker_.load(std::memory_order_acquire);
  if (b == kClosed) return Admission::Admitted;
  if (b == kProbing || ticks(now) < b) return Admission::Refused;
  // The ejection is over: the one caller that wins the exchange probes; the others wait for its verdict.
  if (!breaker_.compare_exchange_strong(b, kProbing, std::memory_order_acq_rel)) return Admission::Refused;
  transition = BreakerTransition::Probing;
  return Admission::Probe;
}

// base_ejection × (times ejected in this episode), capped at max_ejection. An episode ends once the endpoint
// has stayed closed for max_ejection (Envoy multiplies the same way; it decrements instead of resetting).
// No side effect: the caller stores `multiplier` only when its state change won.
int64_t EndpointHealth::ejection_end(Clock::time_point now, const config::BreakerConfig& policy, bool repeat,
                                     uint32_t& multiplier) const {
  multiplier = ejection_multiplier_.load(std::memory_order_relaxed);
  const int64_t restored = restored_at_.load(std::memory_order_relaxed);
  const auto quiet = std::chrono::duration_cast<Clock::duration>(policy.max_ejection).count();
  if (!repeat && ticks(now) - restored >= quiet) multiplier = 0;
  multiplier = std::min<uint32_t>(multiplier + 1, 1'000'000);
  const auto base = std::chrono::duration_cast<Clock::duration>(policy.base_ejection);
  const auto cap = std::chrono::duration_cast<Clock::duration>(policy.max_ejection);
  const auto length = base.count() > cap.count() / multiplier ? cap : std::min(cap, base * multiplier);
  return std::max<int64_t>(1, ticks(now) + length.count());
}

void EndpointHealth::count_ejection(uint32_t multiplier) {
  ejection_multiplier_.store(multiplier, std::memory_order_relaxed);
  ejections_total_.fetch_add(1, std::memory_order_relaxed);
}

BreakerTransition EndpointHealth::record(EndpointVerdict verdict, bool probe, std::chrono::microseconds latency,
                                         Clock::time_point now, const config::BreakerConfig& policy) {
  if (verdict == EndpointVerdict::Success) {
    const int64_t sample = std::max<int64_t>(1, latency.count());
    const int64_t old = ewma_us_.load(std::memory_order_relaxed);
    // A lost update between two workers only drops one sample: no lock for an average.
    ewma_us_.store(old == 0 ? sample : static_cast<int64_t>(old + kEwmaWeight * (sample - old)),
                   std::memory_order_relaxed);
    consecutive_failures_.store(0, std::memory_order_relaxed);
    if (probe) {
      int64_t expected = kProbing;
      if (breaker_.compare_exchange_strong(expected, kClosed, std::memory_order_acq_rel)) {
        restored_at_.store(ticks(now), std::memory_order_relaxed);
        return BreakerTransition::Restored;
      }
    }
    return BreakerTransition::None;
  }
  if (verdict == EndpointVerdict::Neutral) {
    if (probe) {  // no verdict: put the endpoint back to "open, due now" so the next request probes it
      int64_t expected = kProbing;
      breaker_.compare_exchange_strong(expected, std::max<int64_t>(1, ticks(now)), std::memory_order_acq_rel);
    }
    return BreakerTransition::None;
  }
  const uint32_t failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t multiplier = 0;
  if (probe) {
    int64_t expected = kProbing;
    const int64_t until = ejection_end(now, policy, true, multiplier);
    if (!breaker_.compare_exchange_strong(expected, until, std::memory_order_acq_rel)) return BreakerTransition::None;
    count_ejection(multiplier);
    return BreakerTransition::ReEjected;
  }
  if (failures < policy.failures) return BreakerTransition::None;
  int64_t expected = kClosed;
  const int64_t until = ejection_end(now, policy, false, multiplier);
  // Failures of requests that were in flight when another one ejected the endpoint change nothing.
  if (!breaker_.compare_exchange_strong(expected, until, std::memory_order_acq_rel)) return BreakerTransition::None;
  count_ejection(multiplier);
  return BreakerTransition::Ejected;
}

BreakerTransition EndpointHealth::restore_after_panic(Clock::time_point now) {
  int64_t b = breaker_.load(std::memory_order_acquire);
  if (b == kClosed || !breaker_.compare_exchange_strong(b, kClosed, std::memory_order_acq_rel))
    return BreakerTransition::None;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  restored_at_.store(ticks(now), std::memory_order_relaxed);
  return BreakerTransition::Restored;
}

}  // namespace tollway::providers::resilience
