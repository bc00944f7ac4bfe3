#include "telemetry/sampler.h"

#include <cmath>

namespace tollway::telemetry {

ParentBasedRatioSampler::ParentBasedRatioSampler(double ratio) {
  if (!(ratio > 0)) ratio = 0;  // also NaN
  if (ratio > 1) ratio = 1;
  ratio_ = ratio;
  always_ = ratio >= 1;
  // 2^63 is exactly representable; ratio * 2^63 < 2^63 for ratio < 1, so the cast cannot overflow.
  threshold_ = always_ ? (uint64_t{1} << 63) : static_cast<uint64_t>(ratio * 9223372036854775808.0);
}

bool ParentBasedRatioSampler::should_sample(std::optional<bool> parent_sampled, const TraceId& trace_id) const {
  if (parent_sampled) return *parent_sampled;
  return should_sample_root(trace_id);
}

bool ParentBasedRatioSampler::should_sample_root(const TraceId& trace_id) const {
  if (always_) return true;
  uint64_t lower = 0;
  for (int i = 8; i < 16; ++i) lower = (lower << 8) | trace_id.bytes[static_cast<std::size_t>(i)];
  return (lower >> 1) < threshold_;
}

}  // namespace tollway::telemetry
