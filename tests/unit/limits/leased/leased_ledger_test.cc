#include "limits/leased/leased_ledger.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>

namespace tollway::limits {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// A control plane scripted by the test: `answer` decides each exchange (nullopt: unreachable); every report is kept.
class ScriptedLeaseSource final : public LeaseSource {
 public:
  std::function<std::optional<LeaseAnswer>(const std::vector<LeaseUse>&)> answer;
  std::vector<std::vector<LeaseUse>> reports;
  asio::awaitable<std::optional<LeaseAnswer>> exchange(std::vector<LeaseUse> uses, std::string& error) override {
    reports.push_back(uses);
    auto a = answer(uses);
    if (!a) error = "scripted: unreachable";
    co_return a;
  }
};

// Grants `granted` (cumulative) on every key reported, valid `ttl`, re-reported every 100 ms.
std::function<std::optional<LeaseAnswer>(const std::vector<LeaseUse>&)> grant(int64_t granted, milliseconds ttl) {
  return [granted, ttl](const std::vector<LeaseUse>& uses) {
    LeaseAnswer a;
    a.sync_interval = milliseconds(100);
    for (const auto& u : uses) a.leases.push_back({u.key, granted, ttl.count(), u.limit - granted});
    return std::optional<LeaseAnswer>(a);
  };
}

int64_t now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Counter budget(LeaseModes modes, int64_t limit = 1'000'000) {
  Counter c{"budget|shared|2026-12-06", CounterAlgorithm::Budget, limit, 86'400'000, false, OnStoreError::Deny, {}};
  c.lease = modes;
  return c;
}

// Runs `body` on one io_context, which also runs the ledger's sync loop; returns when `body` does.
class LeasedLedgerTest : public ::testing::Test {
 protected:
  asio::io_context context;
  std::shared_ptr<ScriptedLeaseSource> source = std::make_shared<ScriptedLeaseSource>();
  std::shared_ptr<LocalLedger> local = std::make_shared<LocalLedger>();
  std::unique_ptr<LeasedLedger> ledger;

  void run(std::function<asio::awaitable<void>()> body) {
    ledger = std::make_unique<LeasedLedger>(local, source);
    ledger->start(context);
    asio::co_spawn(context, body(), [this](std::exception_ptr e) {
      context.stop();
      if (e) std::rethrow_exception(e);
    });
    context.run();
  }
  asio::awaitable<bool> admit(const Counter& c, int64_t amount) {
    const std::vector<Counter> counters{c};
    const std::vector<int64_t> amounts{amount};
    const ReserveResult r = co_await ledger->reserve(counters, amounts, now_ms());
    co_return r.admitted;
  }
  asio::awaitable<void> sleep(milliseconds d) {
    asio::steady_timer t(context, d);
    co_await t.async_wait(asio::use_awaitable);
  }
  std::string metrics() const {
    std::string out;
    ledger->render_metrics(out);
    return out;
  }
};

TEST_F(LeasedLedgerTest, AKeysFirstRequestWaitsForItsLeaseAndSpendsNoMoreThanIt) {
  source->answer = grant(100, milliseconds(5'000));
  run([&]() -> asio::awaitable<void> {
    const Counter c = budget({});
    EXPECT_TRUE(co_await admit(c, 60));   // waited for the first lease
    EXPECT_TRUE(co_await admit(c, 40));   // exactly the lease
    EXPECT_FALSE(co_await admit(c, 1));   // the global limit has room, the lease has none (deny)
  });
  ASSERT_FALSE(source->reports.empty());
  const LeaseUse& first = source->reports.front().front();
  EXPECT_EQ(first.key, "budget|shared|2026-12-06");
  EXPECT_EQ(first.limit, 1'000'000);  // the global limit, as the policy says
  EXPECT_EQ(first.held, 0);
  EXPECT_NE(metrics().find("tollway_limits_lease_waits_total 1"), std::string::npos) << metrics();
}

TEST_F(LeasedLedgerTest, ReportsAreCumulativeSoALostOneLosesNothingAndCountsNothingTwice) {
  const auto granting = grant(1'000, milliseconds(5'000));
  source->answer = [&](const std::vector<LeaseUse>& uses) {  // the second report is lost
    return source->reports.size() == 2 ? std::nullopt : granting(uses);
  };
  run([&]() -> asio::awaitable<void> {
    const Counter c = budget({});
    EXPECT_TRUE(co_await admit(c, 10));
    co_await sleep(milliseconds(250));
    EXPECT_TRUE(co_await admit(c, 20));
    co_await sleep(milliseconds(250));
  });
  int64_t last = -1;
  for (const auto& report : source->reports) {
    ASSERT_EQ(report.size(), 1u);
    EXPECT_GE(report[0].used, last);  // never a delta: each report is everything used so far
    last = report[0].used;
  }
  EXPECT_GE(source->reports.size(), 3u);
  EXPECT_EQ(last, 30);
  EXPECT_EQ(source->reports.back()[0].held, 1'000);
}

TEST_F(LeasedLedgerTest, AllowAdmitsBeyondTheLeaseAndCountsTheOverdraft) {
  source->answer = grant(50, milliseconds(5'000));
  run([&]() -> asio::awaitable<void> {
    const Counter c = budget({.on_lease_exhausted = OnLeaseExhausted::Allow});
    EXPECT_TRUE(co_await admit(c, 50));
    EXPECT_TRUE(co_await admit(c, 30));
  });
  EXPECT_NE(metrics().find("tollway_limits_lease_overdraft_total 30"), std::string::npos) << metrics();
}

TEST_F(LeasedLedgerTest, ControlUnreachableDecidesByEachBudgetsMode) {
  // Leases of 100 valid 150 ms; then the control plane stops answering and every lease expires.
  bool reachable = true;
  const auto granting = grant(100, milliseconds(150));
  source->answer = [&](const std::vector<LeaseUse>& uses) {
    return reachable ? granting(uses) : std::nullopt;
  };
  run([&]() -> asio::awaitable<void> {
    Counter deny = budget({.on_control_unreachable = OnControlUnreachable::Deny});
    Counter last = budget({.on_control_unreachable = OnControlUnreachable::LastLease});
    Counter safe = budget({.on_control_unreachable = OnControlUnreachable::Safe, .safe_allowance = 25});
    deny.key = "budget|deny|2026-12-06";
    last.key = "budget|last|2026-12-06";
    safe.key = "budget|safe|2026-12-06";
    for (const Counter* c : {&deny, &last, &safe}) EXPECT_TRUE(co_await admit(*c, 40));
    reachable = false;
    co_await sleep(milliseconds(400));  // past every lease's lifetime
    EXPECT_FALSE(co_await admit(deny, 1));
    EXPECT_TRUE(co_await admit(last, 60));   // what the last lease still allowed
    EXPECT_FALSE(co_await admit(last, 1));
    EXPECT_TRUE(co_await admit(safe, 25));   // safe_allowance beyond what it had used
    EXPECT_FALSE(co_await admit(safe, 1));
    co_await sleep(milliseconds(250));  // a report sent with every lease expired
  });
  EXPECT_NE(metrics().find("tollway_limits_lease_syncs_total{result=\"failed\"} "), std::string::npos);
  EXPECT_EQ(metrics().find("tollway_limits_lease_syncs_total{result=\"failed\"} 0"), std::string::npos);
  // What each report says it holds once the leases expired: last_lease still spends against its grant, so it says
  // so (the control plane keeps it committed while the report is in flight); deny and safe hold nothing.
  ASSERT_FALSE(source->reports.empty());
  for (const LeaseUse& u : source->reports.back()) {
    if (u.key == "budget|last|2026-12-06") EXPECT_EQ(u.held, 100) << u.key;
    else EXPECT_EQ(u.held, 0) << u.key;
  }
}

TEST_F(LeasedLedgerTest, RateCountersStayPerProcessAndAreNeverReported) {
  source->answer = grant(10, milliseconds(5'000));
  run([&]() -> asio::awaitable<void> {
    const Counter rate{"rate|per-key|k1", CounterAlgorithm::Gcra, 1'000, 60'000, false, OnStoreError::Deny, {}};
    EXPECT_TRUE(co_await admit(rate, 500));  // decided at once against its own limit: no lease involved
    co_await sleep(milliseconds(150));
  });
  EXPECT_TRUE(source->reports.empty());
}

}  // namespace
}  // namespace tollway::limits
