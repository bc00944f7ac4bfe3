// AttemptPlan: the retry and fallback decisions of one request, as pure functions of what an upstream attempt
// reported — try the same candidate again after a jittered exponential backoff (or the provider's retry-after,
// when it is no longer than backoff_max), move on to the next provider of the route's fallback chain, or stop
// and let the client have the last answer. Attempts are only ever repeated for failures that happened before
// any byte reached the client; the plan is never asked otherwise. It never sleeps, reads a clock or draws
// random numbers itself (the caller passes them), so every decision is reproducible in tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/resilience_config.h"
#include "providers/resilience/endpoint_health.h"

namespace tollway::providers::resilience {

// Why an attempt failed before anything was sent to the client.
enum class AttemptFailure {
  None,
  Connect,      // DNS, TCP refusal, TLS failure
  Closed,       // the provider closed the connection before its response head
  Timeout,      // connect or first-byte timeout
  Protocol,     // malformed response head (treated as 5xx)
  RateLimited,  // 429
  ServerError,  // 5xx
  CircuitOpen,  // every endpoint of the provider is ejected: nothing was sent
};
// Stable label for metrics and logs: connect, closed, timeout, protocol, 429, 5xx, circuit_open ("" for None).
const char* failure_name(AttemptFailure f);
// What the breaker makes of an attempt: its failure, or else the status relayed to the client (0 = none).
EndpointVerdict endpoint_verdict(AttemptFailure f, int relayed_status);
// The failure a provider status stands for (RateLimited, ServerError or None).
AttemptFailure failure_for_status(int status);

// The provider's wish when to retry: `retry-after-ms` (OpenAI) wins over `retry-after` (seconds or HTTP-date).
// nullopt when neither header is present or parsable.
std::optional<std::chrono::milliseconds> provider_retry_after(std::optional<std::string_view> retry_after_ms,
                                                              std::optional<std::string_view> retry_after,
                                                              int64_t now_unix_seconds);

class AttemptPlan {
 public:
  // `candidates`: 1 + the route's fallback entries. `deadline`: no attempt starts after it (upstream_total).
  AttemptPlan(const config::RetryPolicy& policy, std::size_t candidates, Clock::time_point deadline)
      : policy_(policy), candidates_(candidates), deadline_(deadline) {}

  struct Next {
    enum Kind { Stop, Retry, Fallback } kind = Stop;
    std::chrono::milliseconds delay{0};  // wait this long first (Retry only)
  };
  // What follows an attempt that failed with `failure`. `uniform01` in [0, 1) draws the jitter:
  // delay = d/2 + uniform01 × d/2 with d = min(backoff_max, backoff_base × 2^retries so far), or exactly
  // `retry_after` when the provider sent one (a longer one than backoff_max is not waited for).
  Next decide(AttemptFailure failure, std::optional<std::chrono::milliseconds> retry_after, Clock::time_point now,
              double uniform01) const;
  // Would `failure` lead to another attempt (retry-after unknown)? The forward phase keeps a 429/5xx response
  // from the client only then; decide() with the real retry-after may still stop, and the client then gets it.
  bool would_try_again(AttemptFailure failure, Clock::time_point now) const {
    return decide(failure, std::nullopt, now, 0.0).kind != Next::Stop;
  }
  void advance(const Next& next);

  std::size_t candidate() const { return candidate_; }  // 0 = the provider the request's model chose
  uint32_t retries_of_candidate() const { return retries_; }
  uint32_t attempts_made() const { return attempts_; }   // before the current one
  bool may_repeat() const { return policy_.attempts > 0 || candidates_ > 1; }

 private:
  bool retries_on(AttemptFailure f) const;
  config::RetryPolicy policy_;
  std::size_t candidates_;
  Clock::time_point deadline_;
  std::size_t candidate_ = 0;
  uint32_t retries_ = 0;
  uint32_t attempts_ = 0;
};

// A uniform value in [0, 1) from a per-thread generator (for AttemptPlan::decide's jitter).
double jitter_draw();

}  // namespace tollway::providers::resilience
