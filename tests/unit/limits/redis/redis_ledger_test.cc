// RedisLedger against a real redis-server: the Counter semantics of limits/ledger.h, atomicity across threads,
// key TTLs, NOSCRIPT recovery, counter generations (no refund to a counter Redis lost and created again),
// connecting ahead of the first request, and each on_store_error while Redis is down, paused or back.
#include "limits/redis/redis_ledger.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "limits/local_ledger.h"
#include "limits/redis/ledger_scripts.h"
#include "limits/redis/redis_server.h"

namespace tollway::limits::redis {
namespace {

namespace asio = boost::asio;
constexpr int64_t kT0 = 1'800'000'000'000;  // a fixed "now" (ms since the epoch)

template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  // The connection's reader keeps the io_context busy, so run until the task is done, not until idle.
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    io.run_one_for(std::chrono::milliseconds(10));
  return future.get();
}

// The name Redis gives a script (SCRIPT LOAD / EVALSHA).
std::string sha1_of(std::string_view script) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(script.data(), script.size(), digest, &length, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

Counter gcra(std::string key, int64_t limit, int64_t window_ms, OnStoreError on_error = OnStoreError::Deny) {
  return Counter{std::move(key), CounterAlgorithm::Gcra, limit, window_ms, false, on_error, {}};
}
Counter budget(std::string key, int64_t limit, int64_t window_ms, OnStoreError on_error = OnStoreError::Deny) {
  return Counter{std::move(key), CounterAlgorithm::Budget, limit, window_ms, false, on_error, {}};
}

class RedisLedgerTest : public ::testing::Test {
 protected:
  RedisLedgerTest() {
    options_.redis.port = server_.port();
    options_.redis.command_timeout_ms = 200;
    options_.redis.connect_timeout_ms = 200;
    options_.redis.reconnect_min_ms = 20;
    options_.redis.reconnect_max_ms = 100;
    options_.key_prefix = "test:" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ":";
    ledger_ = std::make_unique<RedisLedger>(options_, nullptr);
  }

  // Remembers the generation each admitted counter was reserved in, for settle().
  ReserveResult reserve(std::vector<Counter> counters, std::vector<int64_t> amounts, int64_t now) {
    ReserveResult result = run(io_, [&]() -> asio::awaitable<ReserveResult> {
      co_return co_await ledger_->reserve(counters, amounts, now);
    }());
    if (result.admitted)
      for (std::size_t i = 0; i < counters.size(); ++i) generation_[counters[i].key] = result.states[i].generation;
    return result;
  }
  // Settles with the generation of the counter's latest admitted reserve.
  bool settle(std::vector<Counter> counters, std::vector<int64_t> reserved, std::vector<int64_t> actual,
              int64_t now) {
    std::vector<std::string> generations;
    for (const auto& c : counters) generations.push_back(generation_[c.key]);
    return settle_in(counters, reserved, generations, actual, now);
  }
  bool settle_in(std::vector<Counter> counters, std::vector<int64_t> reserved, std::vector<std::string> generations,
                 std::vector<int64_t> actual, int64_t now) {
    return run(io_, [&]() -> asio::awaitable<bool> {
      co_return co_await ledger_->settle(counters, reserved, generations, actual, now);
    }());
  }
  // A reserve once Redis answers again (after a restart, the connection's backoff).
  ReserveResult reserve_when_up(std::vector<Counter> counters, std::vector<int64_t> amounts, int64_t now) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    ReserveResult r;
    do {
      r = reserve(counters, amounts, now);
      if (!r.store_error) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }
  std::string value_of(const std::string& key) {
    return command({"HGET", options_.key_prefix + key, "v"}).reply.text;
  }
  RedisReply command(std::initializer_list<std::string_view> args) {
    std::string encoded;
    append_command(encoded, args);
    return run(io_, [&]() -> asio::awaitable<RedisReply> {
      co_return co_await RedisConnection::of(io_.get_executor(), options_.redis).execute(encoded);
    }());
  }

  testing::RedisServer server_;
  asio::io_context io_{1};
  RedisLedgerOptions options_;
  std::unique_ptr<RedisLedger> ledger_;
  std::map<std::string, std::string> generation_;  // counter key -> generation of its latest admitted reserve
};

TEST_F(RedisLedgerTest, GcraAdmitsABurstUpToTheLimitThenOneUnitPerInterval) {
  const auto c = gcra("g", 10, 1000);  // T = 100 ms per unit
  auto r = reserve({c}, {10}, kT0);
  ASSERT_FALSE(r.store_error) << r.error;
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  EXPECT_EQ(r.states[0].reset_ms, 1000);
  r = reserve({c}, {1}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_TRUE(r.states[0].would_deny);
  EXPECT_EQ(r.states[0].retry_after_ms, 100);  // new_tat - window - now = 1100 - 1000
  EXPECT_EQ(r.states[0].remaining, 0);
  r = reserve({c}, {1}, kT0 + 99);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].retry_after_ms, 1);
  r = reserve({c}, {1}, kT0 + 100);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
}

TEST_F(RedisLedgerTest, GcraHasNoFixedWindowDoubleBurst) {
  const auto c = gcra("g", 10, 1000);
  ASSERT_TRUE(reserve({c}, {10}, kT0 + 990).admitted);
  // A fixed window would reset at kT0 + 1000; GCRA has room for 1 unit per 100 ms only.
  auto r = reserve({c}, {2}, kT0 + 1010);
  EXPECT_FALSE(r.admitted);
  EXPECT_TRUE(reserve({c}, {5}, kT0 + 1490).admitted);
  EXPECT_FALSE(reserve({c}, {1}, kT0 + 1490).admitted);
  // A whole window after the last unit, the full burst is back.
  auto full = reserve({c}, {10}, kT0 + 2490);
  EXPECT_TRUE(full.admitted);
  EXPECT_EQ(full.states[0].remaining, 0);
}

TEST_F(RedisLedgerTest, GcraAmountAboveTheLimitNeverFits) {
  const auto c = gcra("g", 10, 1000);
  auto r = reserve({c}, {11}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 10);
  EXPECT_EQ(r.states[0].retry_after_ms, -1);  // never fits
}

TEST_F(RedisLedgerTest, GcraSettleRefundsButNeverCreatesCreditInThePast) {
  const auto c = gcra("g", 10, 1000);
  ASSERT_TRUE(reserve({c}, {8}, kT0).admitted);
  ASSERT_TRUE(settle({c}, {8}, {3}, kT0));  // 5 units back
  auto r = reserve({c}, {7}, kT0);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 0);
  // Fresh counter: a refund at the same time cannot push TAT before now (no 12 out of 10).
  const auto d = gcra("h", 10, 1000);
  ASSERT_TRUE(reserve({d}, {2}, kT0).admitted);
  ASSERT_TRUE(settle({d}, {2}, {0}, kT0 + 500));
  EXPECT_FALSE(reserve({d}, {11}, kT0 + 500).admitted);
  EXPECT_TRUE(reserve({d}, {10}, kT0 + 500).admitted);
}

TEST_F(RedisLedgerTest, GcraSettleChargesUsageAboveTheReservation) {
  const auto c = gcra("g", 10, 1000);
  ASSERT_TRUE(reserve({c}, {2}, kT0).admitted);
  ASSERT_TRUE(settle({c}, {2}, {9}, kT0));
  auto r = reserve({c}, {2}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 1);
}

TEST_F(RedisLedgerTest, BudgetIsAHardCapUntilThePeriodEnds) {
  const auto c = budget("b|2026-12", 100, 3'600'000);
  auto r = reserve({c}, {60}, kT0);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 40);
  EXPECT_EQ(r.states[0].reset_ms, 3'600'000);
  r = reserve({c}, {50}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 40);
  EXPECT_EQ(r.states[0].retry_after_ms, 3'600'000);
  ASSERT_TRUE(settle({c}, {60}, {30}, kT0));
  r = reserve({c}, {50}, kT0);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 20);
  r = reserve({c}, {101}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].retry_after_ms, -1);  // never fits
  ASSERT_TRUE(settle({c}, {50}, {70}, kT0));   // usage above the reservation is charged
  EXPECT_EQ(value_of(c.key), "100");
  // The next period is another key.
  EXPECT_TRUE(reserve({budget("b|2027-01", 100, 3'600'000)}, {100}, kT0).admitted);
}

TEST_F(RedisLedgerTest, AllOrNothingAcrossCounters) {
  const auto a = budget("a", 100, 60'000), b = gcra("b", 10, 1000);
  ASSERT_TRUE(reserve({b}, {10}, kT0).admitted);
  auto r = reserve({a, b}, {50, 1}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_FALSE(r.states[0].would_deny);
  EXPECT_TRUE(r.states[1].would_deny);
  EXPECT_EQ(r.states[0].remaining, 50);  // what it would have left; nothing was reserved
  EXPECT_EQ(command({"EXISTS", options_.key_prefix + "a"}).reply.integer, 0);
  r = reserve({a, b}, {50, 1}, kT0 + 100);
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(value_of("a"), "50");
}

TEST_F(RedisLedgerTest, ShadowCounterReportsButNeverDeniesAndIsCharged) {
  auto s = budget("s", 10, 60'000);
  s.shadow = true;
  const auto a = budget("a", 100, 60'000);
  auto r = reserve({s, a}, {8, 8}, kT0);
  EXPECT_TRUE(r.admitted);
  EXPECT_FALSE(r.states[0].would_deny);
  r = reserve({s, a}, {8, 8}, kT0);
  EXPECT_TRUE(r.admitted);
  EXPECT_TRUE(r.states[0].would_deny);
  EXPECT_EQ(r.states[0].remaining, 2);
  EXPECT_EQ(value_of("s"), "16");  // charged all the same
  EXPECT_EQ(value_of("a"), "16");
}

TEST_F(RedisLedgerTest, KeysExpire) {
  options_.budget_ttl_slack_ms = 5000;
  ledger_ = std::make_unique<RedisLedger>(options_, nullptr);
  ASSERT_TRUE(reserve({gcra("g", 10, 1000), budget("b", 10, 20'000)}, {5, 5}, kT0).admitted);
  const int64_t gcra_ttl = command({"PTTL", options_.key_prefix + "g"}).reply.integer;
  const int64_t budget_ttl = command({"PTTL", options_.key_prefix + "b"}).reply.integer;
  EXPECT_GT(gcra_ttl, 1400);  // TAT - now = 500 ms, plus one window for a late settle
  EXPECT_LE(gcra_ttl, 1500);
  EXPECT_GT(budget_ttl, 24'000);  // until the period ends + slack
  EXPECT_LE(budget_ttl, 25'000);
}

TEST_F(RedisLedgerTest, TwoRoundTripsPerRequestAndRecoveryFromScriptFlush) {
  const auto c = budget("b", 1000, 60'000);
  ASSERT_TRUE(reserve({c}, {1}, kT0).admitted);  // first use: SCRIPT LOAD x2 pipelined ahead of the EVALSHA
  ASSERT_TRUE(settle({c}, {1}, {1}, kT0));
  const auto before = ledger_->stats();
  EXPECT_EQ(before.noscript_reloads, 0u);
  EXPECT_EQ(before.script_commands, 2u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(reserve({c}, {1}, kT0).admitted);
    ASSERT_TRUE(settle({c}, {1}, {1}, kT0));
  }
  const auto after = ledger_->stats();
  EXPECT_EQ(after.script_commands - before.script_commands, 20u);
  EXPECT_EQ(after.noscript_reloads, before.noscript_reloads);
  EXPECT_EQ(command({"SCRIPT", "FLUSH"}).reply.text, "OK");
  ASSERT_TRUE(reserve({c}, {1}, kT0).admitted);
  EXPECT_EQ(ledger_->stats().noscript_reloads, before.noscript_reloads + 1);
}

// A burst on a fresh connection: every EVALSHA finds the scripts (loaded first on the connection).
TEST_F(RedisLedgerTest, BurstOnAFreshConnectionNeedsNoEval) {
  const auto c = budget("burst", 1'000'000, 60'000);
  std::atomic<int> admitted{0};
  int running = 100;
  for (int i = 0; i < 100; ++i)
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      std::vector<Counter> counters{c};
      std::vector<int64_t> amounts{1};
      if ((co_await ledger_->reserve(counters, amounts, kT0)).admitted) admitted.fetch_add(1);
      if (--running == 0) io_.stop();
    }, asio::detached);
  io_.restart();
  io_.run();
  EXPECT_EQ(admitted.load(), 100);
  EXPECT_EQ(ledger_->stats().noscript_reloads, 0u);
  EXPECT_EQ(ledger_->stats().script_commands, 100u);
}

TEST_F(RedisLedgerTest, ManyCoroutinesOnSeveralThreadsNeverOverspend) {
  constexpr int kThreads = 4, kCoroutinesPerThread = 50, kLimit = 20'000;
  const auto limit = budget("shared", kLimit, 60'000);
  const auto rate = gcra("rate", kLimit, 60'000);
  std::atomic<int64_t> admitted_total{0}, settled_total{0}, admitted_count{0}, denied_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context io(1);
      int running = kCoroutinesPerThread;
      for (int k = 0; k < kCoroutinesPerThread; ++k) {
        asio::co_spawn(io, [&, seed = t * 1000 + k]() -> asio::awaitable<void> {
          std::mt19937 random(static_cast<unsigned>(seed));
          for (int i = 0; i < 20; ++i) {
            const int64_t amount = 1 + static_cast<int64_t>(random() % 200);
            std::vector<Counter> counters{limit, rate};
            std::vector<int64_t> amounts{amount, amount};
            auto r = co_await ledger_->reserve(counters, amounts, kT0);
            EXPECT_FALSE(r.store_error) << r.error;
            if (!r.admitted) {
              denied_count.fetch_add(1);
              continue;
            }
            admitted_count.fetch_add(1);
            admitted_total.fetch_add(amount);
            const int64_t actual = static_cast<int64_t>(random() % static_cast<unsigned>(amount + 1));
            std::vector<int64_t> actuals{actual, actual};
            std::vector<std::string> generations{r.states[0].generation, r.states[1].generation};
            EXPECT_TRUE(co_await ledger_->settle(counters, amounts, generations, actuals, kT0));
            settled_total.fetch_add(actual);
          }
          if (--running == 0) io.stop();
        }, asio::detached);
      }
      io.run();
    });
  }
  for (auto& t : threads) t.join();
  // 4000 requests of ~100 units against 20000: many are denied, the rest fit exactly.
  EXPECT_GT(denied_count.load(), 0);
  EXPECT_GT(admitted_count.load(), 0);
  const int64_t used = std::stoll(value_of("shared"));
  EXPECT_EQ(used, settled_total.load());
  EXPECT_LE(used, kLimit);
  // Everything admitted was reserved while the reservations of the others were held: what was reserved
  // and then given back made room for more, and at no point more than the limit was held.
  EXPECT_GE(admitted_total.load(), settled_total.load());
}

TEST_F(RedisLedgerTest, ReservedNeverExceedsTheLimitWithoutSettlement) {
  constexpr int kThreads = 4, kCoroutinesPerThread = 25, kLimit = 5'000;
  const auto limit = budget("held", kLimit, 60'000);
  std::atomic<int64_t> admitted_total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context io(1);
      int running = kCoroutinesPerThread;
      for (int k = 0; k < kCoroutinesPerThread; ++k) {
        asio::co_spawn(io, [&, seed = t * 100 + k]() -> asio::awaitable<void> {
          std::mt19937 random(static_cast<unsigned>(seed));
          for (int i = 0; i < 10; ++i) {
            const int64_t amount = 1 + static_cast<int64_t>(random() % 100);
            std::vector<Counter> counters{limit};
            std::vector<int64_t> amounts{amount};
            auto r = co_await ledger_->reserve(counters, amounts, kT0);
            if (r.admitted) admitted_total.fetch_add(amount);
          }
          if (--running == 0) io.stop();
        }, asio::detached);
      }
      io.run();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(admitted_total.load(), kLimit);
  EXPECT_GT(admitted_total.load(), kLimit - 100);  // it filled up to within one request of the limit
  EXPECT_EQ(std::stoll(value_of("held")), admitted_total.load());
}

TEST_F(RedisLedgerTest, RedisDownDenyAndAllowThenStrictAgain) {
  const auto deny = budget("deny", 100, 60'000, OnStoreError::Deny);
  const auto allow = budget("allow", 100, 60'000, OnStoreError::Allow);
  ASSERT_TRUE(reserve({deny, allow}, {10, 10}, kT0).admitted);
  server_.kill();
  auto r = reserve({allow}, {50}, kT0);
  EXPECT_TRUE(r.store_error);
  EXPECT_FALSE(r.error.empty());
  EXPECT_TRUE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 100);
  r = reserve({deny, allow}, {1, 1}, kT0);
  EXPECT_TRUE(r.store_error);
  EXPECT_FALSE(r.admitted);
  EXPECT_TRUE(r.states[0].would_deny);
  EXPECT_FALSE(r.states[1].would_deny);
  EXPECT_TRUE(r.states[0].store_unavailable);
  EXPECT_TRUE(r.states[1].store_unavailable);
  EXPECT_FALSE(settle({deny}, {10}, {5}, kT0));
  // Past the backoff, a new connection attempt is refused at once (not after the 200 ms connect timeout).
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto attempt = std::chrono::steady_clock::now();
  r = reserve({deny}, {1}, kT0);
  EXPECT_TRUE(r.store_error);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - attempt, std::chrono::milliseconds(150));
  auto s = ledger_->stats();
  EXPECT_FALSE(s.store_up);
  EXPECT_EQ(s.outages, 1u);  // one transition, however many failed requests
  EXPECT_GE(s.denied_by_store_error, 1u);
  EXPECT_GE(s.allowed_by_store_error, 2u);
  std::string metrics;
  ledger_->render_metrics(metrics);
  EXPECT_NE(metrics.find("tollway_ledger_redis_up 0"), std::string::npos);

  server_.start();  // same port, empty (no persistence)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    r = reserve({deny}, {100}, kT0);
    if (!r.store_error) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_FALSE(r.store_error) << r.error;
  EXPECT_TRUE(r.admitted);
  EXPECT_FALSE(reserve({deny}, {1}, kT0).admitted);  // strict again
  EXPECT_TRUE(ledger_->stats().store_up);
  EXPECT_EQ(ledger_->stats().outages, 1u);
}

TEST_F(RedisLedgerTest, RedisPausedTimesOutWithinTheCommandTimeout) {
  const auto c = budget("p", 100, 60'000, OnStoreError::Deny);
  ASSERT_TRUE(reserve({c}, {1}, kT0).admitted);
  server_.pause();
  const auto start = std::chrono::steady_clock::now();
  auto r = reserve({c}, {1}, kT0);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.store_error);
  EXPECT_FALSE(r.admitted);
  EXPECT_NE(r.error.find("no reply within 200 ms"), std::string::npos) << r.error;
  EXPECT_LT(took, std::chrono::milliseconds(600));
  server_.resume();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the backoff
  r = reserve({c}, {1}, kT0);
  EXPECT_FALSE(r.store_error) << r.error;
  EXPECT_TRUE(r.admitted);
}

// The same random sequence of reserves and settles (GCRA and budgets, shadow counters, several counters per
// request, time moving forward irregularly) against LocalLedger and RedisLedger: every answer is identical.
TEST_F(RedisLedgerTest, AnswersExactlyLikeLocalLedger) {
  LocalLedger local;
  std::mt19937 random(7);
  std::vector<Counter> pool{gcra("g1", 10, 1000), gcra("g2", 100, 60'000), gcra("g3", 7, 333),
                            budget("b1", 500, 3'600'000), budget("b2", 50, 86'400'000)};
  pool[2].shadow = true;
  pool.push_back(budget("b3", 40, 1000));
  pool.back().shadow = true;
  int64_t now = kT0;
  int admitted = 0, denied = 0;
  for (int step = 0; step < 1500; ++step) {
    now += static_cast<int64_t>(random() % 120);
    std::vector<Counter> counters;
    std::vector<int64_t> amounts;
    for (const auto& c : pool)
      if (random() % 3 == 0) {
        counters.push_back(c);
        amounts.push_back(static_cast<int64_t>(random() % (c.limit / 2 + 2)));
      }
    if (counters.empty()) continue;
    const ReserveResult want = local.reserve_now(counters, amounts, now);
    const ReserveResult got = reserve(counters, amounts, now);
    ASSERT_FALSE(got.store_error) << got.error;
    ASSERT_EQ(got.admitted, want.admitted) << "step " << step;
    for (std::size_t i = 0; i < counters.size(); ++i) {
      ASSERT_EQ(got.states[i].would_deny, want.states[i].would_deny) << "step " << step << " " << counters[i].key;
      ASSERT_EQ(got.states[i].remaining, want.states[i].remaining) << "step " << step << " " << counters[i].key;
      ASSERT_EQ(got.states[i].reset_ms, want.states[i].reset_ms) << "step " << step << " " << counters[i].key;
      ASSERT_EQ(got.states[i].retry_after_ms, want.states[i].retry_after_ms) << "step " << step << " "
                                                                             << counters[i].key;
    }
    if (!want.admitted) {
      ++denied;
      continue;
    }
    ++admitted;
    if (random() % 4 == 0) continue;  // some reservations are never settled (held)
    std::vector<int64_t> actual;
    for (int64_t a : amounts) actual.push_back(static_cast<int64_t>(random() % (2 * a + 2)));
    const int64_t later = now + static_cast<int64_t>(random() % 300);
    local.settle_now(counters, amounts, actual, later);
    ASSERT_TRUE(settle(counters, amounts, actual, later));
  }
  EXPECT_GT(admitted, 100);
  EXPECT_GT(denied, 100);
}

// on_store_error: local decides in process (LocalLedger) from the start of the outage for local_fallback_max_s,
// then denies; the reservations made in process are settled in process; when Redis is back, Redis decides.
TEST_F(RedisLedgerTest, RedisDownLocalFallbackForABoundedTimeThenDeny) {
  options_.local_fallback_max_s = 1;
  auto local = std::make_shared<LocalLedger>();
  ledger_ = std::make_unique<RedisLedger>(options_, local);
  const auto c = budget("local", 100, 60'000, OnStoreError::Local);
  const auto d = budget("deny", 100, 60'000, OnStoreError::Deny);
  ASSERT_TRUE(reserve({c}, {90}, kT0).admitted);  // in Redis
  server_.kill();
  auto r = reserve({c}, {60}, kT0);
  EXPECT_TRUE(r.store_error);
  EXPECT_TRUE(r.admitted);  // the local ledger starts empty: 60 of 100
  EXPECT_EQ(r.states[0].remaining, 40);
  EXPECT_FALSE(r.states[0].store_unavailable);  // decided by a ledger's state
  r = reserve({c}, {50}, kT0);
  EXPECT_FALSE(r.admitted);  // the local ledger enforces the limit
  EXPECT_TRUE(r.states[0].would_deny);
  // All or nothing with a Deny counter: the local reservation is given back.
  r = reserve({c, d}, {10, 1}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(local->reserve_now(std::vector<Counter>{c}, std::vector<int64_t>{40}, kT0).admitted, true);
  local->settle_now(std::vector<Counter>{c}, std::vector<int64_t>{40}, std::vector<int64_t>{0}, kT0);
  // Settling the in-process reservation goes to the local ledger (returns true although Redis is down).
  EXPECT_TRUE(settle({c}, {60}, {20}, kT0));
  EXPECT_TRUE(local->reserve_now(std::vector<Counter>{c}, std::vector<int64_t>{80}, kT0).admitted);
  local->settle_now(std::vector<Counter>{c}, std::vector<int64_t>{80}, std::vector<int64_t>{0}, kT0);
  EXPECT_GE(ledger_->stats().local_fallback_decisions, 3u);
  // Past local_fallback_max_s: deny.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = reserve({c}, {1}, kT0);
  EXPECT_TRUE(r.store_error);
  EXPECT_FALSE(r.admitted);
  EXPECT_TRUE(r.states[0].store_unavailable);
  // Back: Redis decides again, with what it held before the outage (90 of 100).
  server_.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    r = reserve({c}, {1}, kT0);
    if (!r.store_error) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_FALSE(r.store_error) << r.error;
  EXPECT_TRUE(r.admitted);  // the restarted Redis is empty (no persistence): 1 of 100
  EXPECT_EQ(r.states[0].remaining, 99);
}

// Issue 12 item 3, the reported numbers: a reservation made before Redis restarted empty must not give its
// refund to the counter created after the restart (that would be credit: 24,016 tokens against 20,000).
TEST_F(RedisLedgerTest, BudgetRefundAfterRedisLostTheCounterIsNotCredit) {
  const auto c = budget("day", 20'000, 3'600'000);
  ASSERT_TRUE(reserve({c}, {5'008}, kT0).admitted);
  const std::string first_generation = generation_[c.key];
  server_.kill();
  server_.start();
  auto second = reserve_when_up({c}, {15'008}, kT0);
  ASSERT_FALSE(second.store_error) << second.error;
  ASSERT_TRUE(second.admitted);
  EXPECT_NE(second.states[0].generation, first_generation);
  // The first request used 18 of its 5,008: nothing goes back to the new counter.
  ASSERT_TRUE(settle_in({c}, {5'008}, {first_generation}, {18}, kT0));
  EXPECT_EQ(value_of(c.key), "15008");
  EXPECT_FALSE(reserve({c}, {4'993}, kT0).admitted);
  EXPECT_TRUE(reserve({c}, {4'992}, kT0).admitted);
  // The second request settles in its own generation: its refund is given back.
  ASSERT_TRUE(settle({c}, {15'008}, {8}, kT0));
  EXPECT_EQ(value_of(c.key), "5000");
}

TEST_F(RedisLedgerTest, GcraRefundAfterRedisLostTheCounterIsNotCredit) {
  const auto c = gcra("rate", 100, 60'000);
  ASSERT_TRUE(reserve({c}, {60}, kT0).admitted);
  const std::string first_generation = generation_[c.key];
  server_.kill();
  server_.start();
  ASSERT_TRUE(reserve_when_up({c}, {60}, kT0).admitted);
  ASSERT_TRUE(settle_in({c}, {60}, {first_generation}, {0}, kT0));
  EXPECT_FALSE(reserve({c}, {41}, kT0).admitted);  // 60 of 100 held, as before the stale settle
  EXPECT_TRUE(reserve({c}, {40}, kT0).admitted);
}

// Spend is never lost: usage above a reservation is charged to whatever counter holds the key now.
TEST_F(RedisLedgerTest, UsageAboveAReservationIsChargedAfterRedisLostTheCounter) {
  const auto b = budget("day", 1'000, 3'600'000);
  const auto g = gcra("rate", 100, 60'000);
  ASSERT_TRUE(reserve({b, g}, {100, 10}, kT0).admitted);
  const std::vector<std::string> before{generation_[b.key], generation_[g.key]};
  server_.kill();
  server_.start();
  // Nothing was reserved since the restart: the keys are created with the excess only.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  bool applied = false;
  for (int attempt = 0; attempt < 50 && !applied; ++attempt) {
    applied = settle_in({b, g}, {100, 10}, before, {130, 25}, kT0);
    if (!applied) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(applied);
  EXPECT_EQ(value_of(b.key), "30");
  EXPECT_FALSE(reserve({g}, {86}, kT0).admitted);  // 15 of 100 charged
  EXPECT_TRUE(reserve({g}, {85}, kT0).admitted);
  // A counter created by a settlement has a generation of its own, not the lost one.
  const auto next = reserve({b}, {10}, kT0);
  ASSERT_TRUE(next.admitted);
  EXPECT_NE(next.states[0].generation, before[0]);
  ASSERT_TRUE(settle_in({b}, {100}, {before[0]}, {100}, kT0));  // a stale exact settle changes nothing
  EXPECT_EQ(value_of(b.key), "40");
}

TEST_F(RedisLedgerTest, ACounterKeepsItsGenerationUntilItsKeyIsGone) {
  const auto c = budget("kept", 100, 60'000);
  const auto first = reserve({c}, {1}, kT0);
  const auto second = reserve({c}, {1}, kT0);
  ASSERT_TRUE(first.admitted && second.admitted);
  EXPECT_FALSE(first.states[0].generation.empty());
  EXPECT_EQ(first.states[0].generation, second.states[0].generation);
  EXPECT_EQ(command({"DEL", options_.key_prefix + c.key}).reply.integer, 1);  // an eviction
  const auto third = reserve({c}, {1}, kT0);
  EXPECT_NE(third.states[0].generation, first.states[0].generation);
  EXPECT_TRUE(settle_in({c}, {1}, {first.states[0].generation}, {0}, kT0));
  EXPECT_EQ(value_of(c.key), "1");
}

// A counter written as a plain string by an earlier version keeps its value and TTL and becomes a hash.
TEST_F(RedisLedgerTest, AStringCounterOfAnEarlierVersionIsConvertedInPlace) {
  const std::string key = options_.key_prefix + "old";
  ASSERT_EQ(command({"SET", key, "700", "PX", "50000"}).reply.text, "OK");
  const auto r = reserve({budget("old", 1'000, 60'000)}, {350}, kT0);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.states[0].remaining, 300);
  EXPECT_EQ(command({"TYPE", key}).reply.text, "hash");
  EXPECT_GT(command({"PTTL", key}).reply.integer, 40'000);
  EXPECT_TRUE(reserve({budget("old", 1'000, 60'000)}, {300}, kT0).admitted);
  EXPECT_EQ(value_of("old"), "1000");
}

// Issue 12 item 5: connect() opens the connection and loads both scripts before the first request, so a burst
// right after it never waits for a connection (nor sends EVAL).
TEST_F(RedisLedgerTest, ConnectLoadsBothScriptsBeforeTheFirstRequest) {
  ASSERT_EQ(command({"SCRIPT", "FLUSH"}).reply.text, "OK");
  asio::io_context worker{1};
  const bool ready = run(worker, ledger_->connect(std::chrono::steady_clock::now() + std::chrono::seconds(2)));
  EXPECT_TRUE(ready);
  const auto& connection = RedisConnection::of(worker.get_executor(), options_.redis);
  EXPECT_TRUE(connection.connected());
  const auto exists = command({"SCRIPT", "EXISTS", sha1_of(kReserveScript), sha1_of(kSettleScript)}).reply;
  ASSERT_EQ(exists.elements.size(), 2u);
  EXPECT_EQ(exists.elements[0].integer, 1);
  EXPECT_EQ(exists.elements[1].integer, 1);
  EXPECT_EQ(ledger_->stats().store_errors, 0u);
  EXPECT_EQ(ledger_->stats().outages, 0u);
}

TEST_F(RedisLedgerTest, ConnectGivesUpAtTheDeadlineWhenRedisIsDownAndCountsAnOutage) {
  server_.kill();
  asio::io_context worker{1};
  const auto start = std::chrono::steady_clock::now();
  const bool ready = run(worker, ledger_->connect(start + std::chrono::milliseconds(300)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(ready);
  EXPECT_GE(took, std::chrono::milliseconds(150));  // retried after its backoff, not given up at once
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  EXPECT_FALSE(ledger_->stats().store_up);
  EXPECT_EQ(ledger_->stats().outages, 1u);
  // Redis back: a later connect succeeds and ends the outage.
  server_.start();
  EXPECT_TRUE(run(worker, ledger_->connect(std::chrono::steady_clock::now() + std::chrono::seconds(3))));
  EXPECT_TRUE(ledger_->stats().store_up);
}

}  // namespace
}  // namespace tollway::limits::redis
