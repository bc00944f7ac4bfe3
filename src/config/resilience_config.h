// The resilience settings of a provider (load balancing, outlier ejection) and of a route (retries), as the
// config loader validated them (src/providers/resilience/config.cc). Plain values; nothing here acts on them.
#pragma once

#include <chrono>
#include <cstdint>

namespace tollway::config {

enum class LoadBalancing { RoundRobin, LeastInFlight, LatencyEwma };

// Outlier ejection of one endpoint (src/providers/resilience/endpoint_health.h): `failures` consecutive
// failures eject it for base_ejection x (times ejected), at most max_ejection; then one probe request decides.
struct BreakerConfig {
  uint32_t failures = 5;
  std::chrono::milliseconds base_ejection{30'000};
  std::chrono::milliseconds max_ejection{300'000};
};

// A route's `retries`: how often the same provider is tried again after a failure before any byte reached the
// client (docs/operations.md, Resilience).
struct RetryPolicy {
  uint32_t attempts = 2;  // retries after the first try, per candidate provider; 0 = none
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{5'000};  // also the longest provider retry-after that is waited for
  bool on_connect = true;   // connect errors, refusals, TLS failures, connection closed before the answer
  bool on_timeout = false;  // connect or first-byte timeout (the provider may have done the work)
  bool on_429 = true;
  bool on_5xx = true;       // any 5xx, and malformed responses
};

}  // namespace tollway::config
