#include "limits/calendar.h"

#include <gtest/gtest.h>

#include <limits>

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

// Key budgets: periods counted from the anchor, fixed lengths or calendar months (day clamped), or lifetime.
TEST(RecurringPeriod, FixedLengthsMonthsAndLifetime) {
  const int64_t anchor = 1'796'083'200'000 + 3'600'000;  // 2026-12-01T01:00:00Z
  auto p = recurring_period(anchor, kDay, 0, anchor + 2 * kDay + 5);
  EXPECT_EQ(p.start_ms, anchor + 2 * kDay);
  EXPECT_EQ(p.end_ms, anchor + 3 * kDay);
  EXPECT_EQ(p.label, std::to_string(anchor + 2 * kDay));
  EXPECT_EQ(recurring_period(anchor, kDay, 0, anchor - 10).start_ms, anchor);  // a clock behind the anchor
  const int64_t jan31 = 1'801'357'200'000;  // 2027-01-31T01:00:00Z: anchored on a 31st
  p = recurring_period(jan31, 0, 1, jan31 + 30 * kDay);  // 2027-03-02: the period that began on Feb 28
  EXPECT_EQ(p.start_ms, jan31 + 28 * kDay);
  EXPECT_EQ(p.end_ms, jan31 + 59 * kDay);  // 2027-03-31
  p = recurring_period(jan31, 0, 1, jan31 + 5);
  EXPECT_EQ(p.start_ms, jan31);
  EXPECT_EQ(p.end_ms, jan31 + 28 * kDay);
  p = recurring_period(anchor, 0, 0, anchor + 1000 * kDay);
  EXPECT_EQ(p.start_ms, anchor);
  EXPECT_EQ(p.end_ms, std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace tollway::limits
