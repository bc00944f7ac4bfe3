// The leased budget's discrete-event model: nothing beyond the limit without lost nodes; with lost nodes the
// overspend is positive and within the bound's K term; allow-mode overdraft is term U; the report rate is set by
// nodes and the sync interval, not by traffic; every demanded token is served once or denied; demand given per node
// (shares) lands on those nodes only, and the nodes lost are the busiest by that demand.
#include "advise/sim/lease_model.h"

#include <gtest/gtest.h>

#include <vector>

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
  return LeaseDemand{tokens_per_second, 32, 32 * 32 + 100, {}};
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

LeaseDemand shared(double tokens_per_second, std::vector<double> shares) {
  LeaseDemand d = demand(tokens_per_second);
  d.node_shares = std::move(shares);
  return d;
}

double sum(const std::vector<double>& xs) {
  double total = 0;
  for (const double x : xs) total += x;
  return total;
}

TEST(LeaseModel, NodeSharesPlaceEachNodesDemand) {
  const LeaseOutcome o = simulate_leases(budget(1e12), shared(100000, {0.7, 0.3, 0}), 10, 3, 4);
  ASSERT_EQ(o.served_by_node.size(), 3u);
  EXPECT_NEAR(sum(o.served_by_node), o.served, 1e-6 * o.served);
  EXPECT_DOUBLE_EQ(o.served_by_node[2], 0);  // a node without demand holds a lease it never spends
  EXPECT_NEAR(o.served_by_node[0] / o.served, 0.7, 0.02);
  EXPECT_NEAR(o.served + o.denied, o.demanded, 1e-6 * o.demanded);
}

TEST(LeaseModel, WithSharesEveryTokenIsServedOnceOrDeniedAndNothingBeyondTheLimit) {
  const LeaseOutcome o = simulate_leases(budget(20000), shared(50000, {0.05, 0.9, 0.05}), 3, 3, 8);
  EXPECT_GT(o.denied, 0);
  EXPECT_LE(o.served, o.limit);
  EXPECT_DOUBLE_EQ(o.overspend, 0);
  EXPECT_DOUBLE_EQ(o.bound(), 0);
  EXPECT_NEAR(o.served + o.denied, o.demanded, 1e-6 * o.demanded);
  EXPECT_NEAR(sum(o.served_by_node), o.served, 1e-6 * o.served);
}

TEST(LeaseModel, TheLostNodesAreTheBusiestByTheirShare) {
  BudgetModel b = budget(1e6);
  b.nodes_lost = 1;
  const LeaseOutcome o = simulate_leases(b, shared(250000, {0, 0, 1}), 10, 3, 2);
  // The busy node was lost (term K); the idle ones, not lost, never spent anything.
  EXPECT_GT(o.bound_k, 0);
  EXPECT_DOUBLE_EQ(o.served_by_node[0], 0);
  EXPECT_DOUBLE_EQ(o.served_by_node[1], 0);
  EXPECT_LE(o.overspend, o.bound() + 0.5);
}

TEST(LeaseModel, DeterministicForASeedWithShares) {
  BudgetModel b = budget(1e5);
  const LeaseDemand d = shared(250000, {0.2, 0.5, 0.3});
  const LeaseOutcome a = simulate_leases(b, d, 4, 3, 21);
  const LeaseOutcome c = simulate_leases(b, d, 4, 3, 21);
  EXPECT_EQ(a.served_by_node, c.served_by_node);
  EXPECT_EQ(a.reports, c.reports);
  EXPECT_EQ(a.denied, c.denied);
  const LeaseOutcome other = simulate_leases(b, d, 4, 3, 22);
  EXPECT_NE(a.served_by_node, other.served_by_node);
}

}  // namespace
}  // namespace tollway::sim
