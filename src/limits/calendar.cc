#include "limits/calendar.h"

#include <chrono>
#include <cstdio>
#include <limits>

namespace tollway::limits {

CalendarPeriod calendar_period(config::BudgetPeriod period, int64_t now_ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(now_ms)));
  const year_month_day ymd(day);
  CalendarPeriod out;
  char label[16];
  if (period == config::BudgetPeriod::Day) {
    std::snprintf(label, sizeof label, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    out.start_ms = duration_cast<milliseconds>(day.time_since_epoch()).count();
    out.end_ms = duration_cast<milliseconds>((day + days(1)).time_since_epoch()).count();
  } else {
    std::snprintf(label, sizeof label, "%04d-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()));
    const year_month first = ymd.year() / ymd.month();
    const year_month next = first + months(1);
    out.start_ms = duration_cast<milliseconds>(sys_days(first / 1).time_since_epoch()).count();
    out.end_ms = duration_cast<milliseconds>(sys_days(next / 1).time_since_epoch()).count();
  }
  out.label = label;
  return out;
}

namespace {

// `anchor_ms` moved by `n` calendar months, keeping its time of day; the day is clamped to the month's length.
int64_t add_months(int64_t anchor_ms, int64_t n) {
  using namespace std::chrono;
  const sys_time<milliseconds> anchor{milliseconds(anchor_ms)};
  const sys_days day = floor<days>(anchor);
  const year_month_day ymd(day);
  const year_month target = ymd.year() / ymd.month() + months(n);
  const unsigned last = static_cast<unsigned>((target / std::chrono::last).day());
  const year_month_day moved = target / std::min(static_cast<unsigned>(ymd.day()), last);
  return duration_cast<milliseconds>(sys_days(moved).time_since_epoch()).count() + (anchor - day).count();
}

}  // namespace

CalendarPeriod recurring_period(int64_t anchor_ms, int64_t every_ms, int every_months, int64_t now_ms) {
  CalendarPeriod out;
  if (every_ms > 0) {
    const int64_t index = now_ms > anchor_ms ? (now_ms - anchor_ms) / every_ms : 0;
    out.start_ms = anchor_ms + index * every_ms;
    out.end_ms = out.start_ms + every_ms;
  } else if (every_months > 0) {
    using namespace std::chrono;
    const year_month_day a(floor<days>(sys_time<milliseconds>(milliseconds(anchor_ms))));
    const year_month_day n(floor<days>(sys_time<milliseconds>(milliseconds(std::max(now_ms, anchor_ms)))));
    const int64_t apart = (static_cast<int>(n.year()) - static_cast<int>(a.year())) * 12 +
                          (static_cast<int64_t>(static_cast<unsigned>(n.month())) - static_cast<unsigned>(a.month()));
    int64_t index = apart / every_months * every_months;
    if (index > 0 && add_months(anchor_ms, index) > now_ms) index -= every_months;
    out.start_ms = add_months(anchor_ms, index);
    out.end_ms = add_months(anchor_ms, index + every_months);
  } else {
    out.start_ms = anchor_ms;
    out.end_ms = std::numeric_limits<int64_t>::max();
  }
  out.label = std::to_string(out.start_ms);
  return out;
}

}  // namespace tollway::limits
