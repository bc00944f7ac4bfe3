#include "control/leases/budgets_view.h"

#include "control/ca/identity_store.h"
#include "control/leases/budget_key.h"
#include "core/json.h"

namespace tollway::control::leases {
namespace {

std::string rfc3339(int64_t unix_ms) {
  return utc_text(std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

std::string leases_json(const BudgetKeyState& state, int64_t now_ms) {
  std::string out = "[";
  for (const auto& [holder, h] : state.holders) {
    if (out.size() > 1) out += ',';
    const auto slash = holder.rfind('/');
    json::ObjectWriter w;
    w.field("node", holder.substr(0, slash))
        .field("incarnation", slash == std::string::npos ? std::string() : holder.substr(slash + 1))
        .field("used", h.used)
        .field("granted", h.granted)
        .field("expires_at", rfc3339(h.expires_ms))
        .field("valid", !h.closed && h.expires_ms > now_ms);
    out += std::move(w).finish();
  }
  return out + "]";
}

std::string series_json(const SpendSeries& series, const std::string& key) {
  std::string out = "[";
  for (const auto& s : series.samples(key)) {
    if (out.size() > 1) out += ',';
    out += "[" + std::to_string(s.at_ms / 1000) + "," + std::to_string(s.spent) + "]";
  }
  return out + "]";
}

}  // namespace

std::string budgets_view_json(const LeaseBook& book, const SpendSeries& series, int64_t now_ms) {
  std::string budgets = "[";
  for (const auto& [key, state] : book.keys()) {
    if (budgets.size() > 1) budgets += ',';
    const auto totals = LeaseBook::totals(state, now_ms);
    const auto parts = parse_budget_key(key);
    json::ObjectWriter dimensions;
    if (parts)
      for (const auto& [name, value] : parts->dimensions) dimensions.field(name, value);
    json::ObjectWriter w;
    w.field("key", key)
        .field("budget", parts ? parts->budget : std::string(budget_name(key)))
        .raw_field("dimensions", std::move(dimensions).finish());
    if (parts) w.field("period", parts->period);
    else w.null_field("period");
    w.field("limit", totals.limit)
        .field("spent", totals.spent)
        .field("leased", totals.leased)
        .field("remaining", totals.remaining)
        .field("used_ratio", totals.limit > 0 ? static_cast<double>(totals.spent) / static_cast<double>(totals.limit) : 0.0)
        .raw_field("leases", leases_json(state, now_ms))
        .raw_field("series", series_json(series, key));
    budgets += std::move(w).finish();
  }
  json::ObjectWriter w;
  w.field("sample_interval_s", SpendSeries::kSampleIntervalMs / 1000)
      .field("window_s", SpendSeries::kSampleIntervalMs / 1000 * static_cast<int64_t>(SpendSeries::kSamples))
      .raw_field("budgets", budgets + "]");
  return std::move(w).finish();
}

}  // namespace tollway::control::leases
