#include "telemetry/histogram.h"

#include <cstdio>

#include "core/prometheus_text.h"

namespace tollway::telemetry {

void Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      break;
    }
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBounds.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  core::prometheus::HistogramWriter series(out, name, labels);
  uint64_t cumulative = 0;
  char number[64];
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    std::snprintf(number, sizeof number, "%g", kBounds[i]);
    series.bucket(number, cumulative);
  }
  std::snprintf(number, sizeof number, "%.9g", sum_);
  series.end(number, count_);
}

}  // namespace tollway::telemetry
