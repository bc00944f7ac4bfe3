// BudgetsView: the body of GET /v1/budgets — every leased budget key the lease book holds with its budget name,
// dimensions and period (BudgetKey), limit, spent, leased, remaining and share used, each holder's lease (node,
// incarnation, used, granted, expiry, whether it is still valid) and the last hour of spend (SpendSeries). It only
// renders what the book and the series hold: it never changes them and never computes an alert (AlertRules does).
#pragma once

#include <cstdint>
#include <string>

#include "control/leases/lease_book.h"
#include "control/leases/spend_series.h"

namespace tollway::control::leases {

// {"sample_interval_s":10,"window_s":3600,"budgets":[…]} (see docs/control-plane.md).
std::string budgets_view_json(const LeaseBook& book, const SpendSeries& series, int64_t now_ms);

}  // namespace tollway::control::leases
