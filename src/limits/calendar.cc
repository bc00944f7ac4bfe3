#include "limits/calendar.h"

#include <chrono>
#include <cstdio>

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

}  // namespace tollway::limits
