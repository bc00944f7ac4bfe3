// ExplicitHistogram: a histogram over caller-chosen bucket bounds (the GenAI conventions' recommended ones),
// rendered in Prometheus' cumulative form or handed to OTLP per bucket. Single-writer like Histogram: one worker
// owns an instance, totals are made by merging copies. Allocates only when made; never locks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::telemetry {

class ExplicitHistogram {
 public:
  explicit ExplicitHistogram(std::span<const double> bounds) : bounds_(bounds), counts_(bounds.size() + 1, 0) {}
  void observe(double value);
  void merge(const ExplicitHistogram& other);  // same bounds
  // Appends the _bucket, _sum and _count lines; `labels` is "" or `key="v",...` without braces.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::span<const double> bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  // per bucket, the last one is +Inf
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::span<const double> bounds_;  // static storage (genai_semconv.h)
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace tollway::telemetry
