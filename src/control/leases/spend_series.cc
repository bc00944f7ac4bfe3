#include "control/leases/spend_series.h"

namespace tollway::control::leases {

void SpendSeries::Ring::push(Sample s) {
  if (samples.size() < kSamples) {
    if (samples.capacity() == 0) samples.reserve(kSamples);
    samples.push_back(s);
    return;
  }
  samples[oldest] = s;
  oldest = (oldest + 1) % kSamples;
}

void SpendSeries::record(const std::map<std::string, BudgetKeyState, std::less<>>& keys, int64_t now_ms) {
  const int64_t slot = now_ms / kSampleIntervalMs;
  if (slot <= last_slot_) return;
  last_slot_ = slot;
  std::erase_if(rings_, [&](const auto& ring) { return !keys.contains(ring.first); });
  for (const auto& [key, state] : keys) {
    const int64_t spent = LeaseBook::totals(state, now_ms).spent;
    auto ring = rings_.find(key);
    if (ring == rings_.end()) ring = rings_.emplace(key, Ring{}).first;
    ring->second.push({now_ms, spent});
  }
}

std::vector<SpendSeries::Sample> SpendSeries::samples(std::string_view key) const {
  const auto ring = rings_.find(key);
  if (ring == rings_.end()) return {};
  const auto& s = ring->second.samples;
  std::vector<Sample> out(s.begin() + static_cast<std::ptrdiff_t>(ring->second.oldest), s.end());
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(ring->second.oldest));
  return out;
}

}  // namespace tollway::control::leases
