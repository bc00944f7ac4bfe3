#include "control/leases/spend_series.h"

#include <gtest/gtest.h>

namespace tollway::control::leases {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;  // a slot boundary (divisible by 10 s)

std::map<std::string, BudgetKeyState, std::less<>> keys_with(int64_t spent_a, int64_t spent_b) {
  std::map<std::string, BudgetKeyState, std::less<>> keys;
  keys["budget|a|2026-05"].limit = 1000;
  keys["budget|a|2026-05"].holders["gw-1/x"].used = spent_a;
  keys["budget|b|2026-05"].limit = 1000;
  keys["budget|b|2026-05"].holders["gw-1/x"].used = spent_b / 2;
  keys["budget|b|2026-05"].holders["gw-2/y"].used = spent_b - spent_b / 2;
  return keys;
}

TEST(SpendSeriesTest, OneSamplePerTenSecondSlotWithEveryHoldersUse) {
  SpendSeries series;
  series.record(keys_with(10, 20), kStart);
  series.record(keys_with(11, 21), kStart + 9'999);  // same slot: not sampled
  series.record(keys_with(12, 25), kStart + 10'000);
  const auto a = series.samples("budget|a|2026-05");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].at_ms, kStart);
  EXPECT_EQ(a[0].spent, 10);
  EXPECT_EQ(a[1].at_ms, kStart + 10'000);
  EXPECT_EQ(a[1].spent, 12);
  const auto b = series.samples("budget|b|2026-05");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].spent, 25);  // both holders
  EXPECT_TRUE(series.samples("budget|none|2026-05").empty());
}

TEST(SpendSeriesTest, TheRingKeepsTheNewestHourInOrder) {
  SpendSeries series;
  const std::size_t taken = SpendSeries::kSamples + 25;
  for (std::size_t i = 0; i < taken; ++i)
    series.record(keys_with(static_cast<int64_t>(i), 0), kStart + static_cast<int64_t>(i) * SpendSeries::kSampleIntervalMs);
  const auto a = series.samples("budget|a|2026-05");
  ASSERT_EQ(a.size(), SpendSeries::kSamples);
  EXPECT_EQ(a.front().spent, 25);  // the 25 oldest were overwritten
  EXPECT_EQ(a.back().spent, static_cast<int64_t>(taken - 1));
  for (std::size_t i = 1; i < a.size(); ++i) EXPECT_EQ(a[i].at_ms - a[i - 1].at_ms, SpendSeries::kSampleIntervalMs);
}

TEST(SpendSeriesTest, AKeyTheBookDroppedIsDropped) {
  SpendSeries series;
  series.record(keys_with(1, 2), kStart);
  auto keys = keys_with(3, 4);
  keys.erase("budget|b|2026-05");
  series.record(keys, kStart + SpendSeries::kSampleIntervalMs);
  EXPECT_EQ(series.samples("budget|a|2026-05").size(), 2u);
  EXPECT_TRUE(series.samples("budget|b|2026-05").empty());
}

}  // namespace
}  // namespace tollway::control::leases
