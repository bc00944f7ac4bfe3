#include "pipeline/feature_state.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace tollway::pipeline {

std::size_t next_feature_slot() {
  static std::atomic<std::size_t> next{0};
  const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed);
  if (slot >= FeatureStates::kSlots) {
    std::fprintf(stderr, "tollway: more request state types than FeatureStates::kSlots (%zu)\n", FeatureStates::kSlots);
    std::abort();
  }
  return slot;
}

}  // namespace tollway::pipeline
