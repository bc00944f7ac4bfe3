// bench/leased: the decision cost of `ledger: leased` (LeasedLedger) against `ledger: local` (LocalLedger) in the
// same run, on the same counters (issue 18: target ≤ 1.1× local, ≤ 1 µs p99). A decision is what a request costs
// the ledger: reserve its amounts, then settle what it used.
//
// Fairness: every variant runs inside one coroutine loop in one io_context.run() (Google Benchmark's iteration
// loop is the coroutine's loop), so both ledgers pay the same surroundings. Two ways of calling are measured:
// - `filter`: as limits/admission/filter.cc calls them — local: LocalLedger::reserve_now + settle_now (no await);
//   leased: LeasedLedger::reserve_now (co_await LeasedLedger::reserve only when it must wait for a lease, which
//   the warm-up makes never happen while timed), then LocalLedger::settle_now (leased settles in process too).
// - `await`: both through the Ledger interface, co_await reserve and co_await settle.
// The leased ledger holds a valid lease for every key before timing starts: an in-process LeaseSource grants the
// whole global limit with a one-hour lifetime and a 60 s sync interval, and a warm-up decides every request once
// (each key's first request waits for its first lease). The sync loop runs on a control thread, as in the gateway;
// syncs and lease waits during the timed loop are counted and reported (they should be 0).
//
// Two request shapes: one budget counter (`budget`: the counter leased mode changes) and a typical request of
// three counters (`typical`: per-tenant GCRA token limit, model-glob GCRA limit, per-tenant monthly budget, as in
// bench/limits), cycling over 1,000 tenants. Each decision is timed on its own with steady_clock (the clock pair is
// included and measured alone as BM_Clock); the counters are mean, p50, p99 and p99.9 in ns.
// Run pinned: taskset -c 1 build/release/bench/leased/leased_bench (bench/leased/run.sh does, with repetitions).
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "limits/leased/leased_ledger.h"
#include "limits/local_ledger.h"

namespace tollway::limits {
namespace {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr int kTenants = 1000;
constexpr int64_t kBudgetLimit = 4'000'000'000'000;

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Request {
  std::vector<Counter> counters;
  std::vector<int64_t> amounts;  // reserved
  std::vector<int64_t> used;     // settled
  std::vector<std::string> generations;
};

enum class Shape { Budget, Typical };

std::vector<Request> make_requests(Shape shape) {
  std::vector<Request> out;
  for (int t = 0; t < kTenants; ++t) {
    const std::string tenant = "tenant-" + std::to_string(t);
    Request r;
    if (shape == Shape::Typical) {
      r.counters.push_back({"rate|tenant-tokens|tenant|" + tenant, CounterAlgorithm::Gcra, 2'000'000'000,
                            3'600'000, false, OnStoreError::Deny, {}});
      r.counters.push_back({"rate|gpt-tokens", CounterAlgorithm::Gcra, 4'000'000'000'000, 3'600'000, false,
                            OnStoreError::Deny, {}});
    }
    // A policy budget (limits/policy.cc names them "budget|NAME|dimension|value|period"): leased under `leased`.
    r.counters.push_back({"budget|tenant-month|tenant|" + tenant + "|2027-01", CounterAlgorithm::Budget, kBudgetLimit,
                          31LL * 24 * 3600 * 1000, false, OnStoreError::Deny, {}});
    r.amounts.assign(r.counters.size(), 1200);
    r.used.assign(r.counters.size(), 700);
    r.generations.assign(r.counters.size(), "");
    out.push_back(std::move(r));
  }
  return out;
}

// Grants every key the whole global limit for an hour and asks for the next report in 60 s: the ledger always holds
// an ample, valid lease, so timing sees the lease check and never a wait.
class AmpleLeaseSource final : public LeaseSource {
 public:
  asio::awaitable<std::optional<LeaseAnswer>> exchange(std::vector<LeaseUse> uses, std::string&) override {
    exchanges.fetch_add(1, std::memory_order_relaxed);
    LeaseAnswer answer;
    answer.sync_interval = std::chrono::milliseconds(60'000);
    for (const LeaseUse& u : uses)
      answer.leases.push_back({u.key, u.limit, 3'600'000, std::max<int64_t>(0, u.limit - u.used)});
    co_return answer;
  }
  std::atomic<uint64_t> exchanges{0};
};

// A LeasedLedger with its sync loop on a control thread of its own (as the gateway runs it).
struct LeasedSetup {
  LeasedSetup() : local(std::make_shared<LocalLedger>()), source(std::make_shared<AmpleLeaseSource>()),
                  leased(std::make_unique<LeasedLedger>(local, source)), work(control.get_executor()) {
    leased->start(control);
    thread = std::thread([this] { control.run(); });
  }
  ~LeasedSetup() {
    work.reset();
    control.stop();
    thread.join();
    leased.reset();
  }
  // Decides every request once, all at the same time (each key's first request waits for its first lease);
  // false when one was denied.
  bool warm_up(const std::vector<Request>& requests, int64_t now_ms) {
    asio::io_context io;
    int denied = 0;
    for (const Request& r : requests)
      asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const ReserveResult result = co_await leased->reserve(r.counters, r.amounts, now_ms);
        if (!result.admitted) ++denied;
        local->settle_now(r.counters, r.amounts, r.used, now_ms);
      }, asio::detached);
    io.run();
    return denied == 0;
  }
  // A metric's value from the ledger's Prometheus text (0 when absent).
  uint64_t metric(std::string_view sample) const {
    std::string text;
    leased->render_metrics(text);
    const std::string line = "\n" + std::string(sample) + " ";  // a sample line, not its # HELP
    const std::size_t at = text.find(line);
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + line.size()));
  }

  std::shared_ptr<LocalLedger> local;
  std::shared_ptr<AmpleLeaseSource> source;
  std::unique_ptr<LeasedLedger> leased;
  asio::io_context control;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

struct Samples {
  std::vector<int64_t> ns;
  void report(benchmark::State& state) {
    if (ns.empty()) return;
    double sum = 0;
    for (int64_t v : ns) sum += static_cast<double>(v);
    std::sort(ns.begin(), ns.end());
    auto pct = [&](double p) {
      return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<std::size_t>(p * ns.size()))]);
    };
    state.counters["mean_ns"] = sum / static_cast<double>(ns.size());
    state.counters["p50_ns"] = pct(0.50);
    state.counters["p99_ns"] = pct(0.99);
    state.counters["p999_ns"] = pct(0.999);
  }
};

enum class Ledgers { Local, Leased };
enum class Call { Filter, Await };

// The timed loop: one decision per benchmark iteration, inside one coroutine.
asio::awaitable<void> decide(benchmark::State& state, Ledgers which, Call call, LocalLedger& local,
                             LeasedLedger* leased, const std::vector<Request>& requests, int64_t now_ms,
                             Samples& samples) {
  Ledger& ledger = which == Ledgers::Local ? static_cast<Ledger&>(local) : static_cast<Ledger&>(*leased);
  std::size_t i = 0;
  bool denied = false;
  for (auto _ : state) {
    const Request& r = requests[i];
    const auto t0 = Clock::now();
    ReserveResult result;
    if (call == Call::Await) {
      result = co_await ledger.reserve(r.counters, r.amounts, now_ms);
      co_await ledger.settle(r.counters, r.amounts, r.generations, r.used, now_ms);
    } else {
      if (which == Ledgers::Local) result = local.reserve_now(r.counters, r.amounts, now_ms);
      else if (!leased->reserve_now(r.counters, r.amounts, now_ms, result))
        result = co_await leased->reserve(r.counters, r.amounts, now_ms);
      local.settle_now(r.counters, r.amounts, r.used, now_ms);
    }
    const auto t1 = Clock::now();
    samples.ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    denied |= !result.admitted;
    if (++i == requests.size()) i = 0;
  }
  if (denied) state.SkipWithError("a decision was denied: the lease was not ample");
}

void run(benchmark::State& state, Ledgers which, Call call, Shape shape) {
  const auto requests = make_requests(shape);
  const int64_t now_ms = unix_ms();
  Samples samples;
  samples.ns.reserve(static_cast<std::size_t>(state.max_iterations));
  asio::io_context io;
  if (which == Ledgers::Local) {
    LocalLedger local;
    for (const Request& r : requests) {  // the same warm-up as the leased ledger's
      if (!local.reserve_now(r.counters, r.amounts, now_ms).admitted) {
        state.SkipWithError("warm-up denied");
        return;
      }
      local.settle_now(r.counters, r.amounts, r.used, now_ms);
    }
    asio::co_spawn(io, decide(state, which, call, local, nullptr, requests, now_ms, samples), asio::detached);
    io.run();
  } else {
    LeasedSetup setup;
    if (!setup.warm_up(requests, now_ms)) {
      state.SkipWithError("warm-up denied");
      return;
    }
    const uint64_t valid = setup.metric("tollway_limits_leases{state=\"valid\"}");
    const uint64_t exchanges = setup.source->exchanges.load();
    const uint64_t waits = setup.metric("tollway_limits_lease_waits_total");
    asio::co_spawn(io, decide(state, which, call, *setup.local, setup.leased.get(), requests, now_ms, samples),
                   asio::detached);
    io.run();
    state.counters["valid_leases"] = static_cast<double>(valid);
    state.counters["syncs_timed"] = static_cast<double>(setup.source->exchanges.load() - exchanges);
    state.counters["waits_timed"] = static_cast<double>(setup.metric("tollway_limits_lease_waits_total") - waits);
  }
  samples.report(state);
  state.SetItemsProcessed(state.iterations());
}

constexpr int64_t kIterations = 1'000'000;

void BM_Clock(benchmark::State& state) {
  Samples samples;
  samples.ns.reserve(kIterations);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const auto t1 = Clock::now();
    samples.ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  samples.report(state);
}
BENCHMARK(BM_Clock)->Iterations(kIterations);

#define LEASED_BENCH(NAME, WHICH, CALL, SHAPE)                                  \
  void NAME(benchmark::State& state) { run(state, WHICH, CALL, SHAPE); }        \
  BENCHMARK(NAME)->Iterations(kIterations)->UseRealTime()

LEASED_BENCH(BM_Budget_Filter_Local, Ledgers::Local, Call::Filter, Shape::Budget);
LEASED_BENCH(BM_Budget_Filter_Leased, Ledgers::Leased, Call::Filter, Shape::Budget);
LEASED_BENCH(BM_Budget_Await_Local, Ledgers::Local, Call::Await, Shape::Budget);
LEASED_BENCH(BM_Budget_Await_Leased, Ledgers::Leased, Call::Await, Shape::Budget);
LEASED_BENCH(BM_Typical_Filter_Local, Ledgers::Local, Call::Filter, Shape::Typical);
LEASED_BENCH(BM_Typical_Filter_Leased, Ledgers::Leased, Call::Filter, Shape::Typical);
LEASED_BENCH(BM_Typical_Await_Local, Ledgers::Local, Call::Await, Shape::Typical);
LEASED_BENCH(BM_Typical_Await_Leased, Ledgers::Leased, Call::Await, Shape::Typical);

}  // namespace
}  // namespace tollway::limits

BENCHMARK_MAIN();
