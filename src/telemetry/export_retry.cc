#include "telemetry/export_retry.h"

#include <algorithm>
#include <cmath>

#include "http/retry_after.h"

namespace tollway::telemetry {

bool is_retryable_export_status(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

ExportDecision decide_export_retry(const ExportAttempt& attempt, int attempts_made, const ExportRetryPolicy& policy,
                                   double uniform01, int64_t now_unix_seconds) {
  if (attempt.status && *attempt.status >= 200 && *attempt.status < 300)
    return {attempt.partial_success ? ExportVerdict::PartialSuccess : ExportVerdict::Success};
  if (attempt.status && !is_retryable_export_status(*attempt.status)) return {ExportVerdict::Drop};
  if (attempts_made >= policy.max_attempts) return {ExportVerdict::GiveUp};

  if (attempt.status && !attempt.retry_after.empty()) {
    if (const auto wait = http::parse_retry_after(attempt.retry_after, now_unix_seconds)) {
      const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*wait);
      if (delay > policy.max_retry_after) return {ExportVerdict::GiveUp};
      return {ExportVerdict::Retry, delay};
    }
  }
  const double exponent = std::max(0, attempts_made - 1);
  const double max_ms = static_cast<double>(policy.max_backoff.count());
  const double base = std::min(max_ms, static_cast<double>(policy.initial_backoff.count()) *
                                           std::pow(policy.multiplier, exponent));
  const double u = std::clamp(std::isnan(uniform01) ? 0.0 : uniform01, 0.0, 1.0);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double scaled = std::clamp(base * (1.0 - jitter + 2.0 * jitter * u), 0.0, max_ms);
  return {ExportVerdict::Retry, std::chrono::milliseconds(static_cast<int64_t>(scaled))};
}

}  // namespace tollway::telemetry
