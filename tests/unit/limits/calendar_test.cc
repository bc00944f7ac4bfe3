#include "limits/calendar.h"

#include <gtest/gtest.h>

namespace tollway::limits {
namespace {

constexpr int64_t kDay = 86'400'000;
// 2026-12-31T23:59:59.999Z and the next millisecond.
constexpr int64_t kNewYearMs = 1798761600000;

TEST(Calendar, DayBoundsAndLabel) {
  auto p = calendar_period(config::BudgetPeriod::Day, kNewYearMs - 1);
  EXPECT_EQ(p.label, "2026-12-31");
  EXPECT_EQ(p.end_ms, kNewYearMs);
  EXPECT_EQ(p.start_ms, kNewYearMs - kDay);
  p = calendar_period(config::BudgetPeriod::Day, kNewYearMs);
  EXPECT_EQ(p.label, "2027-01-01");
  EXPECT_EQ(p.start_ms, kNewYearMs);
}

TEST(Calendar, MonthEndsIncludingLeapFebruary) {
  auto p = calendar_period(config::BudgetPeriod::Month, kNewYearMs - 1);
  EXPECT_EQ(p.label, "2026-12");
  EXPECT_EQ(p.end_ms, kNewYearMs);
  EXPECT_EQ(p.end_ms - p.start_ms, 31 * kDay);
  p = calendar_period(config::BudgetPeriod::Month, kNewYearMs);
  EXPECT_EQ(p.label, "2027-01");
  // 2028-02-29 exists: February 2028 has 29 days.
  const int64_t feb_2028 = 1832976000000;  // 2028-02-01T00:00:00Z
  p = calendar_period(config::BudgetPeriod::Month, feb_2028 + 28 * kDay + 5);
  EXPECT_EQ(p.label, "2028-02");
  EXPECT_EQ(p.end_ms - p.start_ms, 29 * kDay);
  p = calendar_period(config::BudgetPeriod::Month, feb_2028 - 1);
  EXPECT_EQ(p.label, "2028-01");
}

TEST(Calendar, BeforeTheEpochIsStillACalendar) {
  auto p = calendar_period(config::BudgetPeriod::Day, -1);
  EXPECT_EQ(p.label, "1969-12-31");
  EXPECT_EQ(p.end_ms, 0);
}

}  // namespace
}  // namespace tollway::limits
