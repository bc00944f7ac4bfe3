// ParentBasedRatioSampler: the OpenTelemetry SDK's ParentBased(root = TraceIdRatioBased(ratio)) decision, as a
// pure function of the parent's sampled flag and the trace id. Deterministic: every process configured with the
// same ratio makes the same decision for the same trace id. Never looks at anything but these two inputs (no
// randomness, no clock, no counters), so it is safe on any thread without synchronisation.
#pragma once

#include <cstdint>
#include <optional>

#include "telemetry/trace_context.h"

namespace tollway::telemetry {

class ParentBasedRatioSampler {
 public:
  // `ratio` is clamped to [0, 1]; NaN counts as 0.
  explicit ParentBasedRatioSampler(double ratio);

  // parent_sampled: the sampled flag of a valid parent context, or nullopt for a root span.
  // Parent sampled -> sample; parent not sampled -> drop; root -> should_sample_root(trace_id).
  bool should_sample(std::optional<bool> parent_sampled, const TraceId& trace_id) const;

  // TraceIdRatioBased as the OTel SDKs implement it: the trace id's lower 8 bytes read big-endian, shifted
  // right by one bit, compared against ratio * 2^63.
  bool should_sample_root(const TraceId& trace_id) const;

  double ratio() const { return ratio_; }
  uint64_t threshold() const { return threshold_; }

 private:
  double ratio_;
  uint64_t threshold_;  // sample when (lower 8 bytes >> 1) < threshold_
  bool always_;         // ratio == 1: sample everything, including the one id equal to the bound
};

}  // namespace tollway::telemetry
