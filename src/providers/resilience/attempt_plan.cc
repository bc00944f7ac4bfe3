#include "providers/resilience/attempt_plan.h"

#include <random>

#include "http/retry_after.h"

namespace tollway::providers::resilience {

const char* failure_name(AttemptFailure f) {
  switch (f) {
    case AttemptFailure::None: return "";
    case AttemptFailure::Connect: return "connect";
    case AttemptFailure::Closed: return "closed";
    case AttemptFailure::Timeout: return "timeout";
    case AttemptFailure::Protocol: return "protocol";
    case AttemptFailure::RateLimited: return "429";
    case AttemptFailure::ServerError: return "5xx";
    case AttemptFailure::CircuitOpen: return "circuit_open";
  }
  return "";
}

EndpointVerdict endpoint_verdict(AttemptFailure f, int relayed_status) {
  switch (f) {
    case AttemptFailure::Connect:
    case AttemptFailure::Closed:
    case AttemptFailure::Timeout:
    case AttemptFailure::Protocol:
    case AttemptFailure::ServerError: return EndpointVerdict::Failure;
    case AttemptFailure::RateLimited:
    case AttemptFailure::CircuitOpen: return EndpointVerdict::Neutral;
    case AttemptFailure::None: break;
  }
  if (relayed_status >= 500) return EndpointVerdict::Failure;
  if (relayed_status == 429 || relayed_status == 0) return EndpointVerdict::Neutral;
  return EndpointVerdict::Success;
}

AttemptFailure failure_for_status(int status) {
  if (status == 429) return AttemptFailure::RateLimited;
  if (status >= 500 && status <= 599) return AttemptFailure::ServerError;
  return AttemptFailure::None;
}

std::optional<std::chrono::milliseconds> provider_retry_after(std::optional<std::string_view> retry_after_ms,
                                                              std::optional<std::string_view> retry_after,
                                                              int64_t now_unix_seconds) {
  if (retry_after_ms) {
    if (auto ms = http::parse_retry_after_ms(*retry_after_ms)) return ms;
  }
  if (retry_after) {
    if (auto s = http::parse_retry_after(*retry_after, now_unix_seconds))
      return std::chrono::duration_cast<std::chrono::milliseconds>(*s);
  }
  return std::nullopt;
}

bool AttemptPlan::retries_on(AttemptFailure f) const {
  switch (f) {
    case AttemptFailure::Connect:
    case AttemptFailure::Closed: return policy_.on_connect;
    case AttemptFailure::Timeout: return policy_.on_timeout;
    case AttemptFailure::RateLimited: return policy_.on_429;
    case AttemptFailure::ServerError:
    case AttemptFailure::Protocol: return policy_.on_5xx;
    case AttemptFailure::CircuitOpen:  // the same provider has nothing to offer until an ejection ends
    case AttemptFailure::None: return false;
  }
  return false;
}

AttemptPlan::Next AttemptPlan::decide(AttemptFailure failure, std::optional<std::chrono::milliseconds> retry_after,
                                      Clock::time_point now, double uniform01) const {
  Next next;
  if (failure == AttemptFailure::None || now >= deadline_) return next;
  if (retries_on(failure) && retries_ < policy_.attempts) {
    std::chrono::milliseconds delay;
    bool wait_ok = true;
    if (retry_after) {
      delay = *retry_after;
      wait_ok = delay <= policy_.backoff_max;
    } else {
      const uint32_t shift = std::min<uint32_t>(retries_, 20);
      const auto doubled = policy_.backoff_base.count() * (int64_t{1} << shift);
      const int64_t d = std::min<int64_t>(policy_.backoff_max.count(), doubled);
      const double u = uniform01 < 0 ? 0 : uniform01 >= 1 ? 0.999999 : uniform01;
      delay = std::chrono::milliseconds(d / 2 + static_cast<int64_t>(u * static_cast<double>(d - d / 2)));
    }
    if (wait_ok && now + delay < deadline_) {
      next.kind = Next::Retry;
      next.delay = delay;
      return next;
    }
  }
  // Any failure before the first byte moves on to the next provider of the fallback chain, without waiting.
  if (candidate_ + 1 < candidates_) next.kind = Next::Fallback;
  return next;
}

void AttemptPlan::advance(const Next& next) {
  ++attempts_;
  if (next.kind == Next::Retry) {
    ++retries_;
  } else if (next.kind == Next::Fallback) {
    ++candidate_;
    retries_ = 0;
  }
}

double jitter_draw() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace tollway::providers::resilience
