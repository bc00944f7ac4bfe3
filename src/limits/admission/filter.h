// LimitsFilter: the admit and settle phases of token-aware rate limits and budgets. Admit estimates the request
// (exact prompt tokens + max_tokens or limits.default_max_tokens, priced with the pricing table), applies the
// context-window guard, asks LimitRules which counters the caller's dimensions touch and reserves them all or
// nothing in the ledger; a denial is a 429 in the caller's API format with retry-after and x-ratelimit-*
// headers (also sent on admitted responses). The body is read only through ctx.body_fields; on a `body: raw`
// route only request-count counters apply (a 2xx answer is one request), since tokens and cost cannot be
// estimated from a body nobody read.
// A virtual key's own limits (ctx.caller.policy->key_limits: max_budget per budget_duration, tpm, rpm) are
// counters of the same reservation, in the same ledger, with the same 429s and headers.
// A model without a price under a USD limit is refused (403 model_not_priced) unless `pricing.unpriced` is
// `default` or `allow`. Settle replaces the reservation by the usage the provider reported (or the UsageFilter's
// estimate) on the counters admit reserved, whichever model a fallback served, releases everything when no
// upstream answered, and appends a spend record keyed like those counters. While the spend log cannot commit,
// `limits.spend_log.on_error: deny` makes admit answer 503 spend_log_unavailable.
// It never charges twice and never leaves a reservation open: settle closes the request's Reservation exactly once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/gateway_config.h"
#include "limits/admission/reservation.h"
#include "limits/admission/runtime.h"
#include "limits/fanout_token.h"
#include "limits/policy.h"
#include "pipeline/filter.h"
#include "providers/pricing/price_table.h"
#include "tokens/estimator.h"

namespace tollway::limits {

namespace asio = boost::asio;

class LimitsFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the configuration.
  struct Config {
    config::LimitsPolicy policy;    // the `limits` section's rules, budgets, sessions and fan-out
    config::PricingConfig pricing;  // what an estimate costs, output bounds, `pricing.unpriced`
    std::vector<config::ModelAlias> model_aliases;  // an alias is limited as the model that serves it first
  };

  LimitsFilter(Config config, LimitsRuntime& runtime);

  std::string_view name() const override { return "limits"; }
  asio::awaitable<pipeline::Verdict> admit(pipeline::RequestCtx& ctx) override;
  asio::awaitable<void> settle(pipeline::RequestCtx& ctx) override;
  // With the strict ledger an open reservation settles in Redis (a round trip).
  bool settle_awaits_io(const pipeline::RequestCtx& ctx) const override {
    const Reservation* r = ctx.features.find<Reservation>();
    return r != nullptr && r->open && runtime_.strict();
  }

 private:
  struct Estimate;
  void deny(pipeline::RequestCtx& ctx, const ReserveResult& result, const Estimate& e) const;  // the 429 reply
  void add_rate_headers(pipeline::HeaderList& headers, const Reservation& r,
                        const ReserveResult& result) const;
  void check_budget_alerts(const Reservation& r, const ReserveResult& result) const;
  // Counters beyond the policy's rules: the fan-out tree and the caller's key limits; their rule index is
  // rules().size() + the pseudo-rule.
  enum PseudoRule : uint32_t { kFanout = 0, kKeyRpm = 1, kKeyTpm = 2, kKeyBudget = 3 };
  uint32_t pseudo(PseudoRule p) const { return static_cast<uint32_t>(rules_.rules().size()) + p; }
  void plan_key_limits(const auth::CallerPolicy& policy, int64_t now_ms, CounterPlan& plan) const;
  // The unit and name of a counter's rule (a configured one or a pseudo-rule).
  config::LimitUnit unit_of(uint32_t rule, const Reservation& r) const;
  const std::string& rule_name(uint32_t rule) const;

  Config config_;
  LimitsRuntime& runtime_;
  LimitRules rules_;
  providers::PriceTable prices_;  // reads config_.pricing
  tokens::PromptEstimator estimator_;
  FanoutSigner fanout_;
};

// Rebuilds the current periods' budget counters (and live fan-out trees) of `policy` in `ledger` from the spend
// log; once, at start, before any request. Returns the number of records replayed.
uint64_t restore_budgets(const config::LimitsPolicy& policy, SpendLog& log, LocalLedger& ledger, int64_t now_ms);

// The counter of a virtual key's budget in the period `now_ms` falls in (its key names the key and the period's
// start, so a new period or a new budget_duration starts a fresh counter). Needs limits.max_budget_micro_usd > 0.
Counter key_budget_counter(std::string_view key_id, const auth::KeyLimits& limits, int64_t now_ms);
// Charges each key's current budget period with what the spend log holds for the key since the period started
// (one indexed sum per key); once, at start, before any request. Returns the number of keys with a budget.
std::size_t restore_key_budgets(const std::string& spend_log_path,
                                const std::vector<std::pair<std::string, auth::KeyLimits>>& keys,
                                LocalLedger& ledger, int64_t now_ms);

}  // namespace tollway::limits
