// LeaseBook: allocation by demand with a fair-share floor, never beyond what the budget has left (checked after
// every step of a randomized skewed fleet), restarts and expiry release leases but never reported use, learning
// after a control-plane restart grants nothing new, and bad reports change nothing.
#include "control/leases/lease_book.h"

#include <gtest/gtest.h>

#include <random>

namespace tollway::control::leases {
namespace {

constexpr int64_t kDay = 86'400'000;

KeyReport report(int64_t used, double rate = 0, int64_t limit = 1'000'000, int64_t held = 0) {
  return KeyReport{"b:tokens|2026-12-06", limit, used, rate, held, kDay};
}

Lease only(const LeaseBook::Answer& a) {
  EXPECT_TRUE(a.errors.empty()) << a.errors.front().message;
  EXPECT_EQ(a.leases.size(), 1u);
  return a.leases.empty() ? Lease{} : a.leases.front();
}

// For every key: what holders spent, plus what unexpired leases still allow (a lowered grant's previous size until
// that lease would have expired), never exceeds the limit.
void expect_within_limit(const LeaseBook& book, int64_t now_ms) {
  for (const auto& [key, state] : book.keys()) {
    int64_t committed = 0;
    for (const auto& [id, h] : state.holders) {
      const int64_t grant = now_ms < h.lowered_until_ms ? std::max(h.granted, h.lowered_from) : h.granted;
      committed += (!h.closed && h.expires_ms > now_ms) ? std::max(h.used, grant) : h.used;
    }
    EXPECT_LE(committed, state.limit) << key << " at " << now_ms;
  }
}

TEST(LeaseBook, AnIdleNodeGetsAFairShareFloorAndABusyOneItsDemand) {
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 4});
  const KeyReport idle[] = {report(0)};
  EXPECT_EQ(only(book.report("gw-1", "boot-a", idle, 0)).granted, 250'000);  // 1e6 / (4 * 1 holder)
  const KeyReport busy[] = {report(0, 200'000)};  // 200k/s: two intervals' worth
  const Lease lease = only(book.report("gw-2", "boot-a", busy, 0));
  EXPECT_EQ(lease.granted, 400'000);
  EXPECT_EQ(lease.remaining, 1'000'000 - 250'000 - 400'000);
  // What is left is all a third node can get, however busy.
  const KeyReport greedy[] = {report(0, 10'000'000)};
  EXPECT_EQ(only(book.report("gw-3", "boot-a", greedy, 0)).granted, 350'000);
  expect_within_limit(book, 0);
}

TEST(LeaseBook, ASkewedRandomFleetNeverLeasesBeyondTheLimitAndUsesNearlyAllOfIt) {
  const int64_t limit = 2'000'000;
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 4});
  std::mt19937_64 rng(7);
  struct Node {
    int64_t used = 0, granted = 0, last_used = 0;
  };
  std::vector<Node> nodes(10);
  int64_t now = 0;
  for (int tick = 0; tick < 400; ++tick, now += 100) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      // Node 0 takes 80 % of the traffic; requests of random size, admitted only within the node's lease.
      const int requests = i == 0 ? 36 : 1;
      for (int r = 0; r < requests; ++r) {
        const int64_t size = std::uniform_int_distribution<int64_t>(50, 4000)(rng);
        if (nodes[i].used + size <= nodes[i].granted) nodes[i].used += size;
      }
      if (tick % 10 == static_cast<int>(i)) {  // each node syncs once a second, staggered
        const double rate = static_cast<double>(nodes[i].used - nodes[i].last_used);
        nodes[i].last_used = nodes[i].used;
        const KeyReport r[] = {report(nodes[i].used, rate, limit, nodes[i].granted)};
        nodes[i].granted = only(book.report("node-" + std::to_string(i), "boot", r, now)).granted;
        expect_within_limit(book, now);
      }
    }
  }
  int64_t spent = 0;
  for (const auto& n : nodes) spent += n.used;
  EXPECT_LE(spent, limit);
  EXPECT_GE(spent, limit * 95 / 100) << "leases stranded more than 5 % of the budget";
}

TEST(LeaseBook, NodesSpendingWhileTheirReportsAreInFlightNeverExceedTheLimit) {
  // Each node spends against the grant it holds, reports every 100 ms and gets the answer 60 ms later; meanwhile
  // it goes on spending against the old grant. A grant lowered by that answer must not have been given away.
  const int64_t limit = 200'000;
  LeaseBook book({.sync_interval_ms = 100, .lease_ttl_ms = 2'000, .floor_divisor = 4});
  struct Node {
    int64_t used = 0, granted = 0, reported_used = 0, answer_at = -1, pending = 0;
  };
  std::vector<Node> nodes(10);
  std::mt19937 rng(11);
  int64_t total = 0;
  for (int64_t now = 0; now < 60'000; now += 5) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      Node& n = nodes[i];
      if (n.answer_at == now) {
        n.granted = n.pending;
        n.answer_at = -1;
      }
      // Bursty, skewed demand: node 0 most of the time, and every node's rate swings.
      const bool burst = std::uniform_int_distribution<int>(0, 9)(rng) < (i == 0 ? 7 : 1);
      const int64_t want = burst ? std::uniform_int_distribution<int64_t>(10, 400)(rng) : 0;
      if (n.used + want <= n.granted) {
        n.used += want;
        total += want;
      }
      if (n.answer_at < 0 && now % 100 == static_cast<int64_t>(i) * 10) {
        const double rate = static_cast<double>(n.used - n.reported_used) / 0.1;
        n.reported_used = n.used;
        const KeyReport r[] = {report(n.used, rate, limit, n.granted)};
        n.pending = only(book.report("gw-" + std::to_string(i), "boot", r, now)).granted;
        n.answer_at = now + 60;
      }
    }
    ASSERT_LE(total, limit) << "at " << now << " ms";
    expect_within_limit(book, now);
  }
  EXPECT_GE(total, limit * 9 / 10);
}

TEST(LeaseBook, ARestartedNodeKeepsItsSpendButLosesItsOldLease) {
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 1});
  const KeyReport first[] = {report(100'000)};
  EXPECT_EQ(only(book.report("gw-1", "boot-a", first, 0)).granted, 1'000'000);
  const KeyReport again[] = {report(0)};
  const Lease lease = only(book.report("gw-1", "boot-b", again, 1000));
  EXPECT_EQ(lease.spent, 100'000);      // boot-a's use stays spent
  EXPECT_EQ(lease.granted, 900'000);    // boot-a's unused lease came back to the pool
  EXPECT_TRUE(book.keys().begin()->second.holders.at("gw-1/boot-a").closed);
  expect_within_limit(book, 1000);
}

TEST(LeaseBook, AKilledNodesLeaseIsReclaimedAfterItsLifetime) {
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 1});
  const KeyReport dead[] = {report(10, 1e9)};
  EXPECT_EQ(only(book.report("gw-dead", "x", dead, 0)).granted, 1'000'000);
  const KeyReport alive[] = {report(0, 1e9)};
  EXPECT_EQ(only(book.report("gw-2", "x", alive, 9'999)).granted, 0);  // all of it is still leased out
  EXPECT_EQ(only(book.report("gw-2", "x", alive, 10'001)).granted, 1'000'000 - 10);
}

TEST(LeaseBook, LearningAfterARestartGrantsNothingNewButKeepsWhatNodesHold) {
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 1});
  book.start_learning(0);
  const KeyReport holding[] = {report(300, 1e9, 1'000'000, 5'000)};
  EXPECT_EQ(only(book.report("gw-1", "x", holding, 100)).granted, 5'000);
  const KeyReport fresh[] = {report(0, 1e9)};
  EXPECT_EQ(only(book.report("gw-2", "x", fresh, 200)).granted, 0);
  EXPECT_EQ(only(book.report("gw-2", "x", fresh, 10'001)).granted, 1'000'000 - 5'000);  // learned, then grants
}

TEST(LeaseBook, BadReportsAreRefusedWholeAndChangeNothing) {
  LeaseBook book({});
  const KeyReport good = report(10);
  for (KeyReport bad : {report(-1), report(10, -1), report(10, std::nan("")), report(10, 0, 0), report(5'000'000)}) {
    bad.key = "b:other|2026-12-06";
    const KeyReport both[] = {good, bad};
    const auto a = book.report("gw-1", "x", both, 0);
    EXPECT_FALSE(a.errors.empty());
    EXPECT_TRUE(a.leases.empty());
  }
  const KeyReport twice[] = {good, good};
  EXPECT_EQ(book.report("gw-1", "x", twice, 0).errors.front().message, "key reported twice");
  EXPECT_TRUE(book.keys().empty());
}

TEST(LeaseBook, KeysAreForgottenOneLeaseLifetimeAfterTheirPeriodEnds) {
  LeaseBook book({.sync_interval_ms = 1000, .lease_ttl_ms = 10'000, .floor_divisor = 4});
  KeyReport r = report(0);
  r.ends_in_ms = 5'000;
  const KeyReport reports[] = {r};
  only(book.report("gw-1", "x", reports, 0));
  EXPECT_EQ(book.drop_ended(15'000), 0u);
  EXPECT_EQ(book.drop_ended(15'001), 1u);
  EXPECT_TRUE(book.keys().empty());
}

}  // namespace
}  // namespace tollway::control::leases
