// ProviderCounters: the retries and fallbacks of one provider, by the failure that caused them; counted by the
// driver on the request thread (atomics only), rendered by UpstreamHealthRegistry. They never decide anything.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "providers/resilience/attempt_plan.h"

namespace tollway::providers::resilience {

// Retries and fallbacks of one provider, by the failure that caused them (AttemptFailure order).
struct ProviderCounters {
  static constexpr std::size_t kReasons = 8;
  std::array<std::atomic<uint64_t>, kReasons> retries{};
  std::array<std::atomic<uint64_t>, kReasons> fallbacks{};  // counted on the provider that was left
  void count_retry(AttemptFailure f) { retries[static_cast<std::size_t>(f)].fetch_add(1, std::memory_order_relaxed); }
  void count_fallback(AttemptFailure f) {
    fallbacks[static_cast<std::size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace tollway::providers::resilience
