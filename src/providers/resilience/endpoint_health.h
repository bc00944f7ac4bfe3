// EndpointHealth: the shared health record of one upstream endpoint (one base URL of one provider): requests in
// flight, an EWMA of the time to the response head, consecutive failures, and the circuit breaker — closed →
// open (ejected for base_ejection × times ejected, at most max_ejection) → half-open (exactly one probe request)
// → closed on the probe's success, open again on its failure. One record per (provider, URL) lives for the whole
// process (UpstreamHealthRegistry), shared by every worker and every snapshot; all state is atomics, so the
// request path never takes a lock. It never picks an endpoint (ProviderBalancer does) and never retries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "config/resilience_config.h"

namespace tollway::providers::resilience {

using Clock = std::chrono::steady_clock;

enum class BreakerState { Closed, Open, HalfOpen };
const char* breaker_state_name(BreakerState s);

// What a call changed in the breaker, for the caller to log and count.
enum class BreakerTransition {
  None,
  Ejected,     // closed → open: too many consecutive failures
  Probing,     // open → half-open: this request is the probe
  Restored,    // half-open → closed: the probe succeeded
  ReEjected,   // half-open → open: the probe failed (longer ejection)
};

// How an attempt on an endpoint ended, for the breaker and the latency average.
enum class EndpointVerdict {
  Success,  // a response head below 500 (4xx included: the endpoint works)
  Failure,  // connect error, timeout, closed before answering, malformed response, 5xx
  Neutral,  // 429 (a rate limit says nothing about the endpoint's health) or no verdict
};

class EndpointHealth {
 public:
  EndpointHealth(std::string provider, std::string url) : provider_(std::move(provider)), url_(std::move(url)) {}

  const std::string& provider() const { return provider_; }
  const std::string& url() const { return url_; }

  enum class Admission { Refused, Admitted, Probe };
  // May a new request use this endpoint at `now`? Closed: Admitted. Open and its ejection is over: the first
  // caller becomes the probe (state half-open, transition Probing); everyone else is Refused until the probe ends.
  Admission admit(Clock::time_point now, BreakerTransition& transition);
  // Would admit() let a request through at `now`? No state change.
  bool admissible(Clock::time_point now) const;
  // The attempt ended. `probe`: it was admitted as the probe. `latency`: request sent → response head (Success).
  BreakerTransition record(EndpointVerdict verdict, bool probe, std::chrono::microseconds latency,
                           Clock::time_point now, const config::BreakerConfig& policy);
  // A request sent to the endpoint although it is ejected (panic: nothing else could serve) succeeded: the
  // endpoint works again, so the breaker closes (Restored) whatever its state.
  BreakerTransition restore_after_panic(Clock::time_point now);

  void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Microseconds; 0 until the first successful response.
  int64_t latency_ewma_us() const { return ewma_us_.load(std::memory_order_relaxed); }
  BreakerState state() const;
  // When an open breaker lets its next probe through (meaningful while open).
  Clock::time_point ejected_until() const;
  uint32_t consecutive_failures() const { return consecutive_failures_.load(std::memory_order_relaxed); }
  uint64_t ejections() const { return ejections_total_.load(std::memory_order_relaxed); }

  static constexpr double kEwmaWeight = 0.3;  // weight of the newest latency sample

 private:
  // Breaker state in one word: 0 = closed, kProbing = half-open, otherwise open until that many steady-clock
  // nanoseconds (always > 0), so a reader never sees "open" without its end time.
  static constexpr int64_t kClosed = 0;
  static constexpr int64_t kProbing = -1;
  static int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }
  int64_t ejection_end(Clock::time_point now, const config::BreakerConfig& policy, bool repeat,
                       uint32_t& multiplier) const;
  void count_ejection(uint32_t multiplier);

  std::string provider_;
  std::string url_;
  std::atomic<int64_t> breaker_{kClosed};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> ewma_us_{0};
  std::atomic<uint32_t> consecutive_failures_{0};
  std::atomic<uint32_t> ejection_multiplier_{0};  // times ejected in the current episode
  std::atomic<int64_t> restored_at_{INT64_MIN / 2};  // when the breaker last closed (ticks; long ago at start)
  std::atomic<uint64_t> ejections_total_{0};
};

}  // namespace tollway::providers::resilience
