// LimitsRuntime's budget gauge: one series per budget counter (not only the last one touched), updated in place,
// and at most kMaxBudgetSeries per budget, the rest folded into counter="_other" with the least remaining.
#include "limits/admission/runtime.h"

#include <gtest/gtest.h>

namespace tollway::limits {
namespace {

std::string metrics(const LimitsRuntime& runtime) {
  std::string out;
  runtime.render_metrics(out);
  return out;
}

TEST(LimitsRuntimeBudgetGauge, EveryCounterHasItsSeries) {
  LimitsRuntime runtime;
  runtime.set_budget_remaining("tenant-month", "tenant|acme", 500);
  runtime.set_budget_remaining("tenant-month", "tenant|beta", 70);
  runtime.set_budget_remaining("tenant-month", "tenant|acme", 400);
  runtime.set_budget_remaining("key_budget", "vk_1", 9);
  const std::string text = metrics(runtime);
  EXPECT_NE(text.find("tollway_limits_budget_remaining{budget=\"tenant-month\",counter=\"tenant|acme\"} 400\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tollway_limits_budget_remaining{budget=\"tenant-month\",counter=\"tenant|beta\"} 70\n"),
            std::string::npos);
  EXPECT_NE(text.find("tollway_limits_budget_remaining{budget=\"key_budget\",counter=\"vk_1\"} 9\n"),
            std::string::npos);
}

TEST(LimitsRuntimeBudgetGauge, SeriesPerBudgetAreCapped) {
  LimitsRuntime runtime;
  for (std::size_t i = 0; i < LimitsRuntime::kMaxBudgetSeries + 5; ++i)
    runtime.set_budget_remaining("per-session", "session|s" + std::to_string(i), 1000 - static_cast<int64_t>(i));
  const std::string text = metrics(runtime);
  std::size_t series = 0;
  for (auto at = text.find("budget=\"per-session\""); at != std::string::npos;
       at = text.find("budget=\"per-session\"", at + 1))
    ++series;
  EXPECT_EQ(series, LimitsRuntime::kMaxBudgetSeries + 1);
  const int64_t least = 1000 - static_cast<int64_t>(LimitsRuntime::kMaxBudgetSeries + 4);
  EXPECT_NE(text.find("counter=\"_other\"} " + std::to_string(least) + "\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tollway::limits
