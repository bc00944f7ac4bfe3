// OTLP/HTTP export retry policy as a pure function: given what one export attempt produced, say whether to retry
// and after how long. Follows the OTLP spec: retry only 429, 502, 503, 504 and connection failures (no response);
// honour Retry-After (delay-seconds or HTTP-date); otherwise exponential backoff with random jitter; never retry a
// 2xx (a partial success included) or any other status. Never sleeps, reads a clock or draws random numbers
// itself: the caller passes the current time and a uniform random value, so every decision is reproducible.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tollway::telemetry {

struct ExportRetryPolicy {
  std::chrono::milliseconds initial_backoff{1000};
  double multiplier = 2.0;
  std::chrono::milliseconds max_backoff{30000};
  double jitter = 0.5;            // the delay is scaled by a factor in [1 - jitter, 1 + jitter)
  int max_attempts = 5;           // attempts in total, the first one included
  std::chrono::milliseconds max_retry_after{300000};  // a longer Retry-After gives up instead of holding the batch
};

struct ExportAttempt {
  // nullopt: no HTTP response (connect, TLS, reset, timeout before the status line).
  std::optional<int> status;
  std::string_view retry_after;  // value of the Retry-After header, "" when absent
  bool partial_success = false;  // a 2xx whose body populated partialSuccess (see parse_export_response)
};

enum class ExportVerdict {
  Success,         // 2xx, nothing rejected
  PartialSuccess,  // 2xx with rejected items: count them, never retry
  Retry,           // wait `delay`, then send the same payload again
  GiveUp,          // retryable, but attempts or Retry-After exceed the policy: drop and count
  Drop,            // not retryable (400, 401, 413, ...): drop and count
};

struct ExportDecision {
  ExportVerdict verdict;
  std::chrono::milliseconds delay{0};  // set for Retry
};

// attempts_made: how many attempts have been made, this one included (1 after the first).
// uniform01: a uniform random value in [0, 1) for the jitter. now_unix_seconds: for an HTTP-date Retry-After.
ExportDecision decide_export_retry(const ExportAttempt& attempt, int attempts_made, const ExportRetryPolicy& policy,
                                   double uniform01, int64_t now_unix_seconds);

bool is_retryable_export_status(int status);  // 429, 502, 503, 504

}  // namespace tollway::telemetry
