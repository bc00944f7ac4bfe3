// Histogram: cumulative-bucket latency histogram with Prometheus' semantics (le buckets, _sum, _count).
// Single-writer: one worker owns an instance; merging copies are how totals are made. Never locks.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::telemetry {

class Histogram {
 public:
  static constexpr std::array<double, 16> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,   0.5,   1,      2.5,   5,    10,    30,    120};
  void observe(double seconds);
  void merge(const Histogram& other);
  // Appends the _bucket, _sum and _count lines; `labels` is "" or `key="v",...` without braces.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  uint64_t count() const { return count_; }

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};  // non-cumulative counts per bound
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace tollway::telemetry
