#include "telemetry/histogram.h"

#include <cstdio>

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
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  char number[64];
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    std::snprintf(number, sizeof number, "%g", kBounds[i]);
    out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"").append(number).append("\"} ");
    out.append(std::to_string(cumulative)).push_back('\n');
  }
  out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"+Inf\"} ");
  out.append(std::to_string(count_)).push_back('\n');
  std::snprintf(number, sizeof number, "%.9g", sum_);
  out.append(name).append("_sum");
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(number).push_back('\n');
  out.append(name).append("_count");
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(count_)).push_back('\n');
}

}  // namespace tollway::telemetry
