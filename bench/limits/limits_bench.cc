// bench/limits: the in-process ledger's decision cost for a typical request (3 counters: a per-tenant GCRA
// token limit, a model-glob GCRA limit, a per-tenant monthly budget), against a same-run reference: the
// cheapest correct shared counter update — one uncontended std::mutex around three
// std::unordered_map<std::string, int64_t> increments of the same keys. Reports throughput (items/s) and the
// latency distribution (p50/p99/p999 of individually timed decisions, steady_clock overhead included and
// measured separately as `clock`). Run pinned: taskset -c 1 build/release/bench/limits/limits_bench (see
// docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "limits/local_ledger.h"
#include "limits/policy.h"

namespace tollway::limits {
namespace {

constexpr int kTenants = 1000;
constexpr int64_t kNow = 1'798'761'600'000;

struct Request {
  std::vector<Counter> counters;
  std::vector<int64_t> amounts;
};

std::vector<Request> make_requests() {
  std::vector<Request> out;
  for (int t = 0; t < kTenants; ++t) {
    const std::string tenant = "tenant-" + std::to_string(t);
    Request r;
    r.counters.push_back({"rate|tenant-tokens|tenant|" + tenant, CounterAlgorithm::Gcra, 2'000'000'000,
                          3'600'000, false, OnStoreError::Deny, {}});
    r.counters.push_back(
        {"rate|gpt-tokens", CounterAlgorithm::Gcra, 4'000'000'000'000, 3'600'000, false, OnStoreError::Deny, {}});
    r.counters.push_back({"budget|tenant-month|tenant|" + tenant + "|2027-01", CounterAlgorithm::Budget,
                          4'000'000'000'000, 2'678'400'000, false, OnStoreError::Deny, {}});
    r.amounts = {1200, 1200, 1200};
    out.push_back(std::move(r));
  }
  return out;
}

// The reference: one mutex, three hash-map counter updates.
class MutexMapCounters {
 public:
  bool update(const Request& r) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < r.counters.size(); ++i) {
      auto it = counts_.find(r.counters[i].key);
      if (it == counts_.end()) it = counts_.emplace(r.counters[i].key, 0).first;
      it->second += r.amounts[i];
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int64_t> counts_;
};

void BM_Reference_MutexUnorderedMap(benchmark::State& state) {
  const auto requests = make_requests();
  MutexMapCounters ref;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ref.update(requests[i]));
    if (++i == requests.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Reference_MutexUnorderedMap);

// One admission decision (reserve on 3 counters, all or nothing).
void BM_LocalLedger_Reserve(benchmark::State& state) {
  const auto requests = make_requests();
  LocalLedger ledger;
  std::size_t i = 0;
  int64_t now = kNow;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ledger.reserve_now(requests[i].counters, requests[i].amounts, now));
    if (++i == requests.size()) {
      i = 0;
      now += 1000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalLedger_Reserve);

// A request's whole ledger work: reserve, then settle what it used.
void BM_LocalLedger_ReserveAndSettle(benchmark::State& state) {
  const auto requests = make_requests();
  LocalLedger ledger;
  const std::vector<int64_t> used = {700, 700, 700};
  std::size_t i = 0;
  int64_t now = kNow;
  for (auto _ : state) {
    const Request& r = requests[i];
    benchmark::DoNotOptimize(ledger.reserve_now(r.counters, r.amounts, now));
    ledger.settle_now(r.counters, r.amounts, used, now);
    if (++i == requests.size()) {
      i = 0;
      now += 1000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocalLedger_ReserveAndSettle);

// The policy too: matching 3 rules against the request's dimensions and building the counter keys.
void BM_Policy_PlanAndReserve(benchmark::State& state) {
  config::LimitsPolicy policy;
  config::RateLimitRule tenant_tokens;
  tenant_tokens.name = "tenant-tokens";
  tenant_tokens.per = {config::Dimension::Tenant};
  tenant_tokens.limit = 2'000'000'000;
  tenant_tokens.window = std::chrono::hours(1);
  config::RateLimitRule gpt = tenant_tokens;
  gpt.name = "gpt-tokens";
  gpt.per = {};
  gpt.match.model = "gpt-*";
  config::BudgetRule month;
  month.name = "tenant-month";
  month.per = {config::Dimension::Tenant};
  month.limit = 4'000'000'000'000;
  policy.rules = {tenant_tokens, gpt};
  policy.budgets = {month};
  const LimitRules rules(policy);
  std::vector<std::string> tenants;
  for (int t = 0; t < kTenants; ++t) tenants.push_back("tenant-" + std::to_string(t));
  LocalLedger ledger;
  CounterPlan plan;
  std::vector<int64_t> amounts;
  std::size_t i = 0;
  for (auto _ : state) {
    plan.clear();
    rules.plan({.tenant = tenants[i], .model = "gpt-4o-mini"}, kNow, plan);
    amounts.assign(plan.counters.size(), 1200);
    benchmark::DoNotOptimize(ledger.reserve_now(plan.counters, amounts, kNow));
    if (++i == tenants.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Policy_PlanAndReserve);

// Latency distribution: every call timed on its own (steady_clock::now() twice per sample).
template <typename Decide>
void timed_distribution(benchmark::State& state, Decide decide) {
  using clock = std::chrono::steady_clock;
  std::vector<int64_t> ns;
  ns.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = clock::now();
    decide();
    const auto t1 = clock::now();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) {
    return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<std::size_t>(p * ns.size()))]);
  };
  state.counters["p50_ns"] = pct(0.50);
  state.counters["p99_ns"] = pct(0.99);
  state.counters["p999_ns"] = pct(0.999);
  state.counters["max_ns"] = static_cast<double>(ns.back());
}

void BM_Latency_Clock(benchmark::State& state) {
  timed_distribution(state, [] {});
}
BENCHMARK(BM_Latency_Clock)->Iterations(1'000'000);

void BM_Latency_Reference(benchmark::State& state) {
  const auto requests = make_requests();
  MutexMapCounters ref;
  std::size_t i = 0;
  timed_distribution(state, [&] {
    benchmark::DoNotOptimize(ref.update(requests[i]));
    if (++i == requests.size()) i = 0;
  });
}
BENCHMARK(BM_Latency_Reference)->Iterations(1'000'000);

void BM_Latency_LocalLedger_Reserve(benchmark::State& state) {
  const auto requests = make_requests();
  LocalLedger ledger;
  std::size_t i = 0;
  int64_t now = kNow;
  timed_distribution(state, [&] {
    benchmark::DoNotOptimize(ledger.reserve_now(requests[i].counters, requests[i].amounts, now));
    if (++i == requests.size()) {
      i = 0;
      now += 1000;
    }
  });
}
BENCHMARK(BM_Latency_LocalLedger_Reserve)->Iterations(1'000'000);

}  // namespace
}  // namespace tollway::limits

BENCHMARK_MAIN();
