#include "limits/local_ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tollway::limits {
namespace {

Counter gcra(std::string key, int64_t limit, int64_t window_ms) {
  return Counter{std::move(key), CounterAlgorithm::Gcra, limit, window_ms, false, OnStoreError::Deny, {}};
}
Counter budget(std::string key, int64_t limit, int64_t window_ms) {
  return Counter{std::move(key), CounterAlgorithm::Budget, limit, window_ms, false, OnStoreError::Deny, {}};
}

ReserveResult reserve(LocalLedger& l, const std::vector<Counter>& c, const std::vector<int64_t>& a,
                      int64_t now) {
  return l.reserve_now(c, a, now);
}

TEST(LocalLedgerGcra, BurstUpToLimitThenDenied) {
  LocalLedger l;
  const std::vector<Counter> c{gcra("k", 100, 60'000)};
  auto r = reserve(l, c, {100}, 1'000'000);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  EXPECT_EQ(r.states[0].reset_ms, 60'000);
  r = reserve(l, c, {1}, 1'000'000);
  EXPECT_FALSE(r.admitted);
  EXPECT_TRUE(r.states[0].would_deny);
  EXPECT_EQ(r.states[0].retry_after_ms, 600);  // one unit leaks every 600 ms
}

TEST(LocalLedgerGcra, NoDoubleBurstAtAWindowBoundary) {
  // A fixed window would allow 100 at 59.999 s and 100 more at 60.000 s. GCRA allows only what has leaked.
  LocalLedger l;
  const std::vector<Counter> c{gcra("k", 100, 60'000)};
  const int64_t t0 = 3'600'000;  // a minute boundary
  EXPECT_TRUE(reserve(l, c, {100}, t0 - 1).admitted);
  auto r = reserve(l, c, {2}, t0);
  EXPECT_FALSE(r.admitted);
  // Over any 60 s span at most limit + what leaked in it: walk one second at a time and count.
  int64_t admitted = 100;
  for (int64_t t = t0; t < t0 + 60'000; t += 1000)
    if (reserve(l, c, {1}, t).admitted) ++admitted;
  EXPECT_LE(admitted, 100 + 60'000 / 600 + 1);
  EXPECT_LE(admitted, 200);
  // Exactly: at t0 nothing has leaked yet (the burst ended 1 ms earlier); from t0+1s on, one unit leaks per
  // 600 ms, so each one-per-second request fits (59 of them), never a second burst of 100.
  EXPECT_EQ(admitted, 159);
}

TEST(LocalLedgerGcra, LeaksLinearly) {
  LocalLedger l;
  const std::vector<Counter> c{gcra("k", 10, 1000)};
  EXPECT_TRUE(reserve(l, c, {10}, 0).admitted);
  EXPECT_FALSE(reserve(l, c, {1}, 99).admitted);
  auto r = reserve(l, c, {1}, 100);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  r = reserve(l, c, {5}, 600);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
}

TEST(LocalLedgerGcra, AmountAboveLimitNeverFits) {
  LocalLedger l;
  auto r = reserve(l, {gcra("k", 10, 1000)}, {11}, 0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].retry_after_ms, -1);
  EXPECT_EQ(r.states[0].remaining, 10);
}

TEST(LocalLedgerGcra, SettleRefundsButNeverIntoThePast) {
  LocalLedger l;
  const std::vector<Counter> c{gcra("k", 100, 10'000)};
  EXPECT_TRUE(reserve(l, c, {100}, 0).admitted);
  l.settle_now(c, std::vector<int64_t>{100}, std::vector<int64_t>{40}, 0);
  auto r = reserve(l, c, {60}, 0);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  // Much later, a refund larger than what is still held does not create credit: TAT stays >= now.
  EXPECT_TRUE(reserve(l, c, {10}, 100'000).admitted);
  l.settle_now(c, std::vector<int64_t>{10}, std::vector<int64_t>{0}, 100'000);
  r = reserve(l, c, {100}, 100'000);
  EXPECT_TRUE(r.admitted);
  EXPECT_FALSE(reserve(l, c, {1}, 100'000).admitted);
}

TEST(LocalLedgerGcra, SettleChargesMoreThanReserved) {
  LocalLedger l;
  const std::vector<Counter> c{gcra("k", 100, 10'000)};
  EXPECT_TRUE(reserve(l, c, {10}, 0).admitted);
  l.settle_now(c, std::vector<int64_t>{10}, std::vector<int64_t>{95}, 0);
  auto r = reserve(l, c, {6}, 0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 5);
}

TEST(LocalLedgerBudget, HardCapAndRelease) {
  LocalLedger l;
  const std::vector<Counter> c{budget("b|2026-12", 1000, 5000)};
  EXPECT_TRUE(reserve(l, c, {600}, 0).admitted);
  auto r = reserve(l, c, {500}, 0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 400);
  EXPECT_EQ(r.states[0].retry_after_ms, 5000);
  l.settle_now(c, std::vector<int64_t>{600}, std::vector<int64_t>{0}, 1);  // failed request: released
  r = reserve(l, c, {1000}, 2);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  EXPECT_FALSE(reserve(l, c, {1}, 3).admitted);
}

TEST(LocalLedgerBudget, NewPeriodKeyStartsFresh) {
  LocalLedger l;
  EXPECT_TRUE(reserve(l, {budget("b|2026-11", 10, 1000)}, {10}, 0).admitted);
  EXPECT_FALSE(reserve(l, {budget("b|2026-11", 10, 1000)}, {1}, 0).admitted);
  EXPECT_TRUE(reserve(l, {budget("b|2026-12", 10, 1000)}, {10}, 1000).admitted);
}

TEST(LocalLedger, AllOrNothing) {
  LocalLedger l;
  const std::vector<Counter> c{gcra("a", 100, 1000), budget("b", 50, 1000)};
  EXPECT_TRUE(reserve(l, c, {40, 40}, 0).admitted);
  auto r = reserve(l, c, {40, 40}, 0);  // a fits (80 <= 100), b does not (80 > 50)
  EXPECT_FALSE(r.admitted);
  EXPECT_FALSE(r.states[0].would_deny);
  EXPECT_TRUE(r.states[1].would_deny);
  // Nothing was reserved on a: 60 still fit.
  EXPECT_TRUE(reserve(l, {gcra("a", 100, 1000)}, {60}, 0).admitted);
}

TEST(LocalLedger, ShadowCounterReportsButNeverDenies) {
  LocalLedger l;
  Counter shadow = budget("s", 10, 1000);
  shadow.shadow = true;
  const std::vector<Counter> c{shadow, budget("e", 100, 1000)};
  EXPECT_TRUE(reserve(l, c, {8, 8}, 0).admitted);
  auto r = reserve(l, c, {8, 8}, 0);
  EXPECT_TRUE(r.admitted);
  EXPECT_TRUE(r.states[0].would_deny);
  EXPECT_FALSE(r.states[1].would_deny);
  EXPECT_EQ(r.states[1].remaining, 84);
}

TEST(LocalLedger, IdleCountersAreSwept) {
  LocalLedger l;
  for (int i = 0; i < 20'000; ++i) reserve(l, {gcra("k" + std::to_string(i), 10, 1000)}, {1}, 0);
  EXPECT_EQ(l.counters_held(), 20'000u);
  for (int i = 0; i < 20'000; ++i) reserve(l, {gcra("k" + std::to_string(i % 7), 10, 1000)}, {0}, 10'000);
  EXPECT_LT(l.counters_held(), 20'000u);
}

TEST(LocalLedger, ConcurrentReservationsNeverExceedTheBudget) {
  LocalLedger l;
  const std::vector<Counter> c{budget("b", 100'000, 60'000), gcra("g", 1'000'000, 3'600'000)};
  std::atomic<int64_t> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        const int64_t n = 1 + (i * 7 + t) % 13;
        if (l.reserve_now(c, std::vector<int64_t>{n, n}, 0).admitted) {
          admitted += n;
          if (i % 3 == 0) {  // settle a third at half the reservation
            l.settle_now(c, std::vector<int64_t>{n, n}, std::vector<int64_t>{n / 2, n / 2}, 0);
            admitted -= n - n / 2;
          }
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_LE(admitted.load(), 100'000);
  EXPECT_GT(admitted.load(), 99'900);  // filled up to (nearly) the cap
  auto r = l.reserve_now(c, std::vector<int64_t>{0, 0}, 0);
  EXPECT_EQ(r.states[0].remaining, 100'000 - admitted.load());
}

}  // namespace
}  // namespace tollway::limits
