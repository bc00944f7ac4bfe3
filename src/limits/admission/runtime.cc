#include "limits/admission/runtime.h"

#include "core/prometheus_text.h"
#include "limits/policy.h"

namespace tollway::limits {
namespace {

constexpr std::size_t kMaxRememberedCrossings = 100'000;

namespace prometheus = core::prometheus;

}  // namespace

void LimitsRuntime::bump(std::pair<std::mutex, std::map<std::string, uint64_t>>& f, std::string key) {
  std::lock_guard lock(f.first);
  ++f.second[std::move(key)];
}

void LimitsRuntime::set_budget_remaining(std::string_view budget, std::string_view counter, int64_t remaining) {
  static constexpr std::string_view kOther = "_other";
  std::lock_guard lock(budgets_mutex_);
  auto budget_it = budget_remaining_.find(budget);
  if (budget_it == budget_remaining_.end()) budget_it = budget_remaining_.try_emplace(std::string(budget)).first;
  auto& counters = budget_it->second;
  if (auto it = counters.find(counter); it != counters.end()) {
    it->second = remaining;
    return;
  }
  if (counters.size() < kMaxBudgetSeries) {
    counters.emplace(std::string(counter), remaining);
    return;
  }
  auto [other, added] = counters.emplace(std::string(kOther), remaining);
  if (!added) other->second = std::min(other->second, remaining);
}

void LimitsRuntime::set_budget_limits(const std::vector<config::BudgetRule>& budgets) {
  std::string samples;
  for (const auto& b : budgets)
    prometheus::sample(samples, "tollway_limits_budget_limit",
                       prometheus::labels({{"budget", b.name},
                                           {"unit", LimitRules::unit_name(b.unit)},
                                           {"period", b.period == config::BudgetPeriod::Day ? "day" : "month"}}),
                       static_cast<uint64_t>(b.limit));
  std::lock_guard lock(budgets_mutex_);
  budget_limits_ = std::move(samples);
}

bool LimitsRuntime::first_crossing(std::string_view budget, std::string_view counter_key, int threshold) {
  {
    std::lock_guard lock(budgets_mutex_);
    if (crossed_.size() >= kMaxRememberedCrossings) crossed_.clear();
    if (!crossed_.insert(std::string(counter_key) + "\n" + std::to_string(threshold)).second) return false;
  }
  bump(alerts_, std::string(budget) + "\n" + std::to_string(threshold));
  return true;
}

void LimitsRuntime::render_metrics(std::string& out) const {
  prometheus::family(out, "tollway_limits_decisions_total", "counter",
                     "Admission decisions of requests that touched at least one limit or budget, by result.");
  prometheus::sample(out, "tollway_limits_decisions_total", prometheus::labels({{"result", "admitted"}}),
                     admitted_.load());
  prometheus::sample(out, "tollway_limits_decisions_total", prometheus::labels({{"result", "denied"}}),
                     denied_.load());
  auto by_key = [&](const char* name, const char* help, const char* key_label,
                    std::pair<std::mutex, std::map<std::string, uint64_t>>& f) {
    prometheus::family(out, name, "counter", help);
    std::lock_guard lock(f.first);
    for (const auto& [key, n] : f.second)
      prometheus::sample(out, name, prometheus::labels({{key_label, key}}), n);
  };
  by_key("tollway_limits_denials_total",
         "Requests denied (429; 503 for rule spend_log, limits.spend_log.on_error: deny), by the rule or budget "
         "that denied them.",
         "rule", denials_);
  by_key("tollway_limits_shadow_denials_total",
         "Requests a shadow-mode rule or budget would have denied (they went on), by rule.", "rule", shadow_denials_);
  by_key("tollway_limits_context_guard_total",
         "Requests whose prompt plus max_tokens exceeded the model's context window, by action.", "action",
         context_guard_);
  by_key("tollway_limits_unpriced_model_total",
         "Requests for a model without a price under a USD limit, by what pricing.unpriced did "
         "(denied, default_price, allowed).",
         "action", unpriced_);
  prometheus::family(
      out, "tollway_limits_budget_alerts_total", "counter",
      "Budget alert thresholds crossed (percent of the budget reserved or spent in its period).");
  {
    std::lock_guard lock(alerts_.first);
    for (const auto& [key, n] : alerts_.second) {
      const auto nl = key.find('\n');
      prometheus::sample(
          out, "tollway_limits_budget_alerts_total",
          prometheus::labels({{"budget", key.substr(0, nl)}, {"threshold", key.substr(nl + 1)}}), n);
    }
  }
  prometheus::family(
      out, "tollway_limits_budget_remaining", "gauge",
      "Units left in each budget counter's current period as of its latest decision, by budget and counter "
      "(its dimension values; the key id for key_budget); micro-USD for cost budgets.");
  {
    std::lock_guard lock(budgets_mutex_);
    for (const auto& [name, counters] : budget_remaining_)
      for (const auto& [counter, remaining] : counters)
        prometheus::sample_text(out, "tollway_limits_budget_remaining",
                                prometheus::labels({{"budget", name}, {"counter", counter}}),
                                std::to_string(remaining));
  }
  prometheus::family(out, "tollway_limits_budget_limit", "gauge",
                     "Each configured budget's limit per UTC period (day or month), in its unit; micro-USD for "
                     "cost budgets. With tollway_limits_budget_remaining: the share of a budget counter used.");
  {
    std::lock_guard lock(budgets_mutex_);
    out += budget_limits_;
  }
  prometheus::family(
      out, "tollway_limits_store_errors_total", "counter",
      "Reservations the ledger's store could not answer (strict ledger: Redis unreachable or too slow).");
  prometheus::sample(out, "tollway_limits_store_errors_total", "", store_errors_.load());
  prometheus::family(out, "tollway_limits_settle_failures_total", "counter",
                     "Settlements the ledger could not apply (the charge is still in the spend log).");
  prometheus::sample(out, "tollway_limits_settle_failures_total", "", settle_failures_.load());
  prometheus::family(out, "tollway_limits_reservations_open", "gauge",
                     "Reservations admitted and not yet settled.");
  prometheus::sample_text(out, "tollway_limits_reservations_open", "", std::to_string(open_.load()));
  prometheus::family(out, "tollway_limits_counters", "gauge", "Counters held by the in-process ledger.");
  prometheus::sample(out, "tollway_limits_counters", "", local_->counters_held());
  if (spend_log_) {
    prometheus::family(out, "tollway_limits_spend_records_total", "counter",
                       "Spend records committed to the spend log.");
    prometheus::sample(out, "tollway_limits_spend_records_total", "", spend_log_->appended());
    prometheus::family(out, "tollway_limits_spend_records_dropped_total", "counter",
                       "Spend records lost: refused by a full queue (commits failing or behind), or still "
                       "uncommitted at shutdown while commits failed.");
    prometheus::sample(out, "tollway_limits_spend_records_dropped_total", "", spend_log_->dropped());
    prometheus::family(out, "tollway_limits_spend_log_commit_failures_total", "counter",
                       "Failed spend-log commits (disk full, database locked, I/O error); each batch is kept "
                       "and retried.");
    prometheus::sample(out, "tollway_limits_spend_log_commit_failures_total", "", spend_log_->commit_failures());
    prometheus::family(out, "tollway_limits_spend_log_failing", "gauge",
                       "1 from a failed spend-log commit until the next successful one (on_error applies).");
    prometheus::sample(out, "tollway_limits_spend_log_failing", "", static_cast<uint64_t>(spend_log_->failing()));
    prometheus::family(out, "tollway_limits_spend_log_records_waiting", "gauge",
                       "Spend records queued or kept for a retry, not yet committed (bounded by 100000).");
    prometheus::sample(out, "tollway_limits_spend_log_records_waiting", "", spend_log_->waiting());
  }
}

}  // namespace tollway::limits
