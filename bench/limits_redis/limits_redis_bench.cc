// bench/limits_redis: the strict ledger's cost on the request path against a plain Redis round trip measured in
// the same run over the same client (PING), plus Redis round trips per request and the overspend of a
// concurrent run against one limit. Usage: limits_redis_bench PORT REQUESTS. Prints JSON lines.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "limits/redis/redis_ledger.h"

namespace {

using namespace tollway::limits;
using namespace tollway::limits::redis;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

template <typename T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    io.run_one_for(std::chrono::milliseconds(10));
  return future.get();
}

struct Percentiles {
  double p50 = 0, p99 = 0;
};
Percentiles percentiles(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

void print(const char* name, Percentiles p) {
  std::printf("{\"name\":\"%s\",\"p50_us\":%.2f,\"p99_us\":%.2f}\n", name, p.p50, p.p99);
}

// What settle needs back from a reserve: the generation of each counter it reserved in.
std::vector<std::string> generations_of(const ReserveResult& reserved) {
  std::vector<std::string> generations;
  for (const auto& state : reserved.states) generations.push_back(state.generation);
  return generations;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s REDIS_PORT REQUESTS\n", argv[0]);
    return 2;
  }
  const int requests = std::stoi(argv[2]);
  RedisLedgerOptions options;
  options.redis.port = static_cast<uint16_t>(std::stoi(argv[1]));
  options.redis.command_timeout_ms = 1000;
  options.key_prefix = "bench:" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + ":";
  RedisLedger ledger(options, nullptr);
  asio::io_context io(1);
  const int64_t now = 1'800'000'000'000;
  // A request touching a rate limit and a budget, as the gateway's policy would hand it over.
  const std::vector<Counter> counters{
      {"tenant:acme|tokens_per_minute", CounterAlgorithm::Gcra, 1'000'000'000, 60'000, false, OnStoreError::Deny, {}},
      {"tenant:acme|budget|2026-12", CounterAlgorithm::Budget, 1'000'000'000'000, 3'600'000, false,
       OnStoreError::Deny, {}}};
  const std::vector<int64_t> amounts{1200, 1200}, actual{900, 900};

  std::vector<double> ping_us, reserve_us, settle_us, pair_us;
  auto& connection = RedisConnection::of(io.get_executor(), options.redis);
  std::string ping;
  append_command(ping, {"PING"});
  const auto before_warmup = ledger.stats();
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 200; ++i) {  // warm up: connection, script cache
      co_await connection.execute(ping);
      auto r = co_await ledger.reserve(counters, amounts, now);
      co_await ledger.settle(counters, amounts, generations_of(r), actual, now);
    }
  }());
  const auto before = ledger.stats();
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < requests; ++i) {
      auto t0 = Clock::now();
      auto pong = co_await connection.execute(ping);
      auto t1 = Clock::now();
      auto r = co_await ledger.reserve(counters, amounts, now);
      auto t2 = Clock::now();
      co_await ledger.settle(counters, amounts, generations_of(r), actual, now);
      auto t3 = Clock::now();
      if (!pong.ok || !r.admitted) std::abort();
      ping_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      reserve_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
      settle_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
      pair_us.push_back(std::chrono::duration<double, std::micro>(t3 - t1).count());
    }
  }());
  const auto after = ledger.stats();
  const Percentiles ping_p = percentiles(ping_us), reserve_p = percentiles(reserve_us),
                    settle_p = percentiles(settle_us), pair_p = percentiles(pair_us);
  print("ping", ping_p);
  print("reserve", reserve_p);
  print("settle", settle_p);
  print("reserve_settle", pair_p);
  std::printf("{\"name\":\"ratios\",\"reserve_over_ping_p50\":%.3f,\"reserve_settle_over_ping_p50\":%.3f,"
              "\"added_critical_path_rtts_p50\":%.3f}\n",
              reserve_p.p50 / ping_p.p50, pair_p.p50 / ping_p.p50, reserve_p.p50 / ping_p.p50);
  std::printf("{\"name\":\"round_trips\",\"requests\":%d,\"script_commands\":%llu,\"per_request\":%.3f,"
              "\"noscript_in_warmup\":%llu}\n",
              requests, static_cast<unsigned long long>(after.script_commands - before.script_commands),
              static_cast<double>(after.script_commands - before.script_commands) / requests,
              static_cast<unsigned long long>(before.noscript_reloads - before_warmup.noscript_reloads));

  // Overspend: 4 threads x 50 coroutines reserve random max_tokens against one budget and settle random usage
  // up to what they reserved; the budget's final value is what was charged.
  constexpr int kThreads = 4, kCoroutines = 50, kPerCoroutine = 20;
  constexpr int64_t kLimit = 200'000;
  const Counter budget{"overspend|budget", CounterAlgorithm::Budget, kLimit, 3'600'000, false, OnStoreError::Deny, {}};
  std::atomic<int64_t> settled{0}, admitted{0}, denied{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      asio::io_context thread_io(1);
      int running = kCoroutines;
      for (int k = 0; k < kCoroutines; ++k)
        asio::co_spawn(thread_io, [&, seed = t * 1000 + k]() -> asio::awaitable<void> {
          std::mt19937 random(static_cast<unsigned>(seed));
          for (int i = 0; i < kPerCoroutine; ++i) {
            const std::vector<Counter> cs{budget};
            const std::vector<int64_t> reserve_amount{1 + static_cast<int64_t>(random() % 4000)};
            auto r = co_await ledger.reserve(cs, reserve_amount, now);
            if (!r.admitted) {
              denied.fetch_add(1);
              continue;
            }
            admitted.fetch_add(1);
            const std::vector<int64_t> used{static_cast<int64_t>(random() % (reserve_amount[0] + 1))};
            co_await ledger.settle(cs, reserve_amount, generations_of(r), used, now);
            settled.fetch_add(used[0]);
          }
          if (--running == 0) thread_io.stop();
        }, asio::detached);
      thread_io.run();
    });
  for (auto& th : threads) th.join();
  std::string get;
  append_command(get, {"GET", options.key_prefix + budget.key});
  const auto charged = run(io, [&]() -> asio::awaitable<RedisReply> { co_return co_await connection.execute(get); }());
  const int64_t in_redis = std::stoll(charged.reply.text);
  std::printf("{\"name\":\"overspend\",\"limit\":%lld,\"admitted\":%lld,\"denied\":%lld,\"charged_in_redis\":%lld,"
              "\"settled_sum\":%lld,\"overspend\":%lld}\n",
              static_cast<long long>(kLimit), static_cast<long long>(admitted.load()),
              static_cast<long long>(denied.load()), static_cast<long long>(in_redis),
              static_cast<long long>(settled.load()),
              static_cast<long long>(std::max<int64_t>(0, in_redis - kLimit)));
  return 0;
}
