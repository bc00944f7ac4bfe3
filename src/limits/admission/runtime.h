// LimitsRuntime: the limits state that outlives configuration snapshots — the in-process ledger (counters survive
// a reload), the strict or leased ledger when configured, the spend log, budget-alert memory and the limits metrics
// (Prometheus text with HELP and TYPE). Built once by the gateway assembly, shared by every LimitsFilter.
// It never decides admission (the filter does) and never blocks on I/O on the event loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/limits_config.h"
#include "limits/leased/leased_ledger.h"
#include "limits/ledger.h"
#include "limits/local_ledger.h"
#include "limits/spend_log.h"

namespace tollway::limits {

class LimitsRuntime {
 public:
  LimitsRuntime() = default;
  LimitsRuntime(const LimitsRuntime&) = delete;
  LimitsRuntime& operator=(const LimitsRuntime&) = delete;

  LocalLedger& local_ledger() { return *local_; }
  std::shared_ptr<LocalLedger> shared_local_ledger() { return local_; }  // a strict ledger's fallback
  // The ledger decisions go to: the strict one when set, else the local one.
  Ledger& ledger() { return strict_ ? *strict_ : static_cast<Ledger&>(*local_); }
  bool strict() const { return strict_ != nullptr; }
  void set_strict_ledger(std::unique_ptr<Ledger> ledger) { strict_ = std::move(ledger); }
  // The leased ledger (ledger: leased), or null: reservations go through it; settlement is the local ledger's.
  LeasedLedger* leased() { return leased_.get(); }
  void set_leased_ledger(std::unique_ptr<LeasedLedger> ledger) { leased_ = std::move(ledger); }
  SpendLog* spend_log() { return spend_log_.get(); }
  void set_spend_log(std::unique_ptr<SpendLog> log) { spend_log_ = std::move(log); }

  // Decisions, for metrics.
  void count_decision(bool admitted) { (admitted ? admitted_ : denied_).fetch_add(1, std::memory_order_relaxed); }
  void count_denial(std::string_view rule) { bump(denials_, std::string(rule)); }
  void count_shadow_denial(std::string_view rule) { bump(shadow_denials_, std::string(rule)); }
  void count_store_error() { store_errors_.fetch_add(1, std::memory_order_relaxed); }
  void count_settle_failure() { settle_failures_.fetch_add(1, std::memory_order_relaxed); }
  void count_context_guard(std::string_view action) { bump(context_guard_, std::string(action)); }
  // A request for a model without a price under a USD limit: "denied", "default_price" or "allowed".
  void count_unpriced(std::string_view action) { bump(unpriced_, std::string(action)); }
  void reservation_opened() { open_.fetch_add(1, std::memory_order_relaxed); }
  void reservation_closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t reservations_open() const { return open_.load(std::memory_order_relaxed); }
  // What one budget counter has left; `counter` names its dimension values ("" for an unsplit budget). At most
  // kMaxBudgetSeries counters per budget are reported; further ones fold into counter="_other" (the least left).
  void set_budget_remaining(std::string_view budget, std::string_view counter, int64_t remaining);
  static constexpr std::size_t kMaxBudgetSeries = 100;
  // The configured budgets (name, unit, limit, period) as the tollway_limits_budget_limit gauge: set by each
  // committed snapshot, replacing the previous one's.
  void set_budget_limits(const std::vector<config::BudgetRule>& budgets);
  // True the first time `threshold` percent of the counter `counter_key` is crossed (then counted).
  bool first_crossing(std::string_view budget, std::string_view counter_key, int threshold);

  void render_metrics(std::string& out) const;

 private:
  static void bump(std::pair<std::mutex, std::map<std::string, uint64_t>>& family, std::string key);

  std::shared_ptr<LocalLedger> local_ = std::make_shared<LocalLedger>();
  std::unique_ptr<Ledger> strict_;
  std::unique_ptr<LeasedLedger> leased_;
  std::unique_ptr<SpendLog> spend_log_;
  std::atomic<uint64_t> admitted_{0}, denied_{0}, store_errors_{0}, settle_failures_{0};
  std::atomic<int64_t> open_{0};
  mutable std::pair<std::mutex, std::map<std::string, uint64_t>> denials_, shadow_denials_, context_guard_, unpriced_,
      alerts_;
  mutable std::mutex budgets_mutex_;
  std::map<std::string, std::map<std::string, int64_t, std::less<>>, std::less<>> budget_remaining_;
  std::set<std::string> crossed_;  // counter key + '\n' + threshold
  std::string budget_limits_;      // rendered tollway_limits_budget_limit samples
};

}  // namespace tollway::limits
