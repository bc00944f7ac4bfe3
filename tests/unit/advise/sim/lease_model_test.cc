// The leased budget's discrete-event model: nothing beyond the limit without lost nodes; with lost nodes the
// overspend is positive and within the bound's K term; allow-mode overdraft is term U; the report rate is set by
// nodes and the sync interval, not by traffic; every demanded token is served once or denied.
#include "advise/sim/lease_model.h"

#include <gtest/gtest.h>

namespace tollway::sim {
namespace {

BudgetModel budget(double limit) {
  BudgetModel b;
  b.limit_tokens = limit;
  b.sync_interval_us = 250e3;
  b.lease_ttl_us = 2e6;
  b.report_latency_us = Distribution::lognormal_p50_p99(2000, 20000);
  return b;
}

LeaseDemand demand(double tokens_per_second) {
  return LeaseDemand{tokens_per_second, 32, 32 * 32 + 100};
}

TEST(LeaseModel, NoNodeLostNoOverspendAndMostOfTheBudgetUsable) {
  const LeaseOutcome o = simulate_leases(budget(1e6), demand(250000), 10, 100, 1);
  EXPECT_GT(o.demanded, o.limit);
  EXPECT_DOUBLE_EQ(o.overspend, 0);
  EXPECT_DOUBLE_EQ(o.bound(), 0);
  EXPECT_GT(o.served, 0.95 * o.limit);
  EXPECT_LE(o.served, o.limit);
  EXPECT_NEAR(o.served + o.denied, o.demanded, 1e-6 * o.demanded);
  EXPECT_GT(o.exhausted_at_s, 0);
}

TEST(LeaseModel, LostNodesOverspendWithinTheKTerm) {
  BudgetModel b = budget(1e6);
  b.nodes_lost = 10;
  const LeaseOutcome o = simulate_leases(b, demand(250000), 10, 100, 1);
  EXPECT_GT(o.bound_k, 0);
  EXPECT_GT(o.overspend, 0);
  EXPECT_LE(o.overspend, o.bound() + 0.5);
}

TEST(LeaseModel, AllowBeyondTheLeaseIsTermU) {
  BudgetModel b = budget(1e5);
  b.allow_beyond_lease = true;
  const LeaseOutcome o = simulate_leases(b, demand(250000), 5, 20, 1);
  EXPECT_GT(o.overspend, 0);
  EXPECT_GT(o.bound_u, 0);
  EXPECT_LE(o.overspend, o.bound() + 0.5);
  EXPECT_DOUBLE_EQ(o.denied, 0);
}

TEST(LeaseModel, ReportsAreSetByNodesAndSyncNotByTraffic) {
  const LeaseOutcome low = simulate_leases(budget(1e12), demand(30), 20, 4, 3);
  const LeaseOutcome high = simulate_leases(budget(1e12), demand(300000), 20, 4, 3);
  EXPECT_NEAR(low.reports_per_second, high.reports_per_second, 0.05 * low.reports_per_second);
  EXPECT_NEAR(low.reports_per_second, low.reports_per_second_closed_form, 0.1 * low.reports_per_second_closed_form);
}

TEST(LeaseModel, DeterministicForASeed) {
  BudgetModel b = budget(1e6);
  b.nodes_lost = 3;
  const LeaseOutcome a = simulate_leases(b, demand(250000), 8, 50, 9);
  const LeaseOutcome c = simulate_leases(b, demand(250000), 8, 50, 9);
  EXPECT_EQ(a.served, c.served);
  EXPECT_EQ(a.reports, c.reports);
  EXPECT_EQ(a.overspend, c.overspend);
}

}  // namespace
}  // namespace tollway::sim
