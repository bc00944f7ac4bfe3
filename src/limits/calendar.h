// Calendar periods of budgets: the UTC day or month a moment falls in (configured budgets) or the recurring
// period of a key budget counted from its anchor, its label (part of a budget counter's key, so a new period
// starts a new counter) and its bounds. Pure arithmetic on ms since the Unix epoch; it
// never reads the clock itself and never uses local time.
#pragma once

#include <cstdint>
#include <string>

#include "config/limits_config.h"

namespace tollway::limits {

struct CalendarPeriod {
  std::string label;     // "2026-12-01" (day) or "2026-12" (month)
  int64_t start_ms = 0;  // first ms of the period
  int64_t end_ms = 0;    // first ms of the next period
};

CalendarPeriod calendar_period(config::BudgetPeriod period, int64_t now_ms);

// The period of a recurring budget that `now_ms` falls in, counted from `anchor_ms`: every `every_ms` ms, or every
// `every_months` calendar months (the anchor's day of month and time of day, clamped to the month's last day).
// Both 0: one period from the anchor that never ends (end_ms = INT64_MAX). Label: the start, in ms.
CalendarPeriod recurring_period(int64_t anchor_ms, int64_t every_ms, int every_months, int64_t now_ms);

}  // namespace tollway::limits
