#include "telemetry/explicit_histogram.h"

#include <algorithm>

#include "core/prometheus_text.h"

namespace tollway::telemetry {

void ExplicitHistogram::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value: le semantics
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

void ExplicitHistogram::merge(const ExplicitHistogram& other) {
  for (std::size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
}

void ExplicitHistogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  core::prometheus::HistogramWriter series(out, name, labels);
  uint64_t cumulative = 0;
  std::string number;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    number.clear();
    core::prometheus::append_real(number, bounds_[i]);
    series.bucket(number, cumulative);
  }
  number.clear();
  core::prometheus::append_real(number, sum_);
  series.end(number, count_);
}

}  // namespace tollway::telemetry
