// SpendSeries: what each leased budget key had spent over the last hour, for the dashboard's charts and GET
// /v1/budgets. One sample per key every 10 s (the first record() in each 10-s slot of the wall clock takes it), the
// newest 360 kept in a fixed ring per key: one hour, at most 360 × 16 bytes per key. A key the lease book dropped (its
// period ended) is dropped here too. It never reads a clock (now_ms is passed in), never persists (a restarted
// control plane starts an empty hour) and never grows a ring past 360 samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "control/leases/lease_book.h"

namespace tollway::control::leases {

class SpendSeries {
 public:
  static constexpr int64_t kSampleIntervalMs = 10'000;
  static constexpr std::size_t kSamples = 360;  // one hour

  struct Sample {
    int64_t at_ms = 0;  // Unix ms
    int64_t spent = 0;
  };

  // Samples every key of `keys` at now_ms when no sample was taken in now_ms's 10-s slot yet.
  void record(const std::map<std::string, BudgetKeyState, std::less<>>& keys, int64_t now_ms);
  // `key`'s samples, oldest first (empty when it has none).
  std::vector<Sample> samples(std::string_view key) const;

 private:
  // A fixed ring: appends until full, then overwrites the oldest.
  struct Ring {
    std::vector<Sample> samples;  // at most kSamples
    std::size_t oldest = 0;       // where the oldest sample is once the ring is full
    void push(Sample s);
  };
  std::map<std::string, Ring, std::less<>> rings_;
  int64_t last_slot_ = -1;
};

}  // namespace tollway::control::leases
