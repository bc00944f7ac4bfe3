#include "limits/admission/filter.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cmath>

#include "core/glob.h"
#include "limits/calendar.h"
#include "providers/routing/route_choice.h"
#include "limits/spend_query.h"
#include "core/log.h"
#include "providers/error_body.h"
#include "providers/usage/extract.h"
#include "providers/usage/gemini_usage.h"
#include "telemetry/baggage.h"

namespace tollway::limits {
namespace {

constexpr std::size_t kMaxSessionId = 128;
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kLifetimeBudgetWindowMs = 10LL * 366 * 24 * 3600 * 1000;  // how long a lifetime counter is kept

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_token_unit(config::LimitUnit u) {
  return u == config::LimitUnit::InputTokens || u == config::LimitUnit::OutputTokens ||
         u == config::LimitUnit::TotalTokens;
}

// A session id as a caller may send it: 1-128 visible ASCII characters.
bool acceptable_session(std::string_view s) {
  if (s.empty() || s.size() > kMaxSessionId) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// OpenAI's reset format: "20ms", "1s", "6m0s", "1h2m3s".
std::string reset_text(int64_t ms) {
  if (ms < 1000) return std::to_string(std::max<int64_t>(ms, 0)) + "ms";
  const int64_t s = (ms + 999) / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s >= 60) out += std::to_string(s / 60 % 60) + "m";
  out += std::to_string(s % 60) + "s";
  return out;
}

std::string usd_text(int64_t micro) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(micro / 1'000'000),
                static_cast<long long>(micro % 1'000'000));
  return buf;
}

std::string amount_text(config::LimitUnit unit, int64_t amount) {
  if (unit == config::LimitUnit::CostUsd) return "$" + usd_text(amount);
  return std::to_string(amount) + " " + LimitRules::unit_name(unit);
}

// The dimension values of a configured budget's counter, for the metric label: its key
// "budget|<name>|<dimension names…>|<values…>|<period>" without the first two fields and the period.
std::string budget_counter_label(std::string_view key) {
  const auto name_end = key.find('|', std::string_view("budget|").size());
  const auto period = key.rfind('|');
  if (name_end == std::string_view::npos || period <= name_end) return {};
  return std::string(key.substr(name_end + 1, period - name_end - 1));
}

}  // namespace

// What the admit phase learned about the request body.
struct LimitsFilter::Estimate {
  std::string model;
  std::string session;
  uint64_t prompt_tokens = 0;
  uint64_t max_output_tokens = 0;
  // Where max_output_tokens came from when the caller set none: "limits.default_max_tokens" or the model's
  // max_output_tokens in the price table; "" when the caller set it.
  std::string output_bound_source;
};

LimitsFilter::LimitsFilter(Config config, LimitsRuntime& runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      rules_(config_.policy),
      prices_(config_.pricing),
      fanout_(config_.policy.fanout.secret) {}

asio::awaitable<pipeline::Verdict> LimitsFilter::admit(pipeline::RequestCtx& ctx) {
  const config::LimitsPolicy& policy = config_.policy;
  Reservation& r = ctx.features.get<Reservation>();
  // Spend that cannot be recorded: `on_error: deny` serves nothing that would be charged until a commit succeeds.
  if (const SpendLog* log = runtime_.spend_log();
      log && log->failing() && policy.spend_log.on_error == config::SpendLogErrorPolicy::Deny) {
    const std::string message =
        "The spend log cannot record charges (see the gateway log) and limits.spend_log.on_error is deny.";
    runtime_.count_denial("spend_log");
    ctx.decision.denied = true;
    ctx.decision.filter = std::string(this->name());
    ctx.decision.rule = "spend_log";
    ctx.decision.reason = message;
    pipeline::reply_error(ctx, 503, message, "spend_log_unavailable");
    ctx.reply.headers.emplace_back("retry-after", "1");
    co_return pipeline::Verdict::Replied;
  }
  // The request as the ledger sees it: model, session, exact prompt tokens, the output it may produce.
  Estimate e;
  if (auto header = ctx.head->find("x-session-id")) {
    if (!acceptable_session(*header))
      co_return pipeline::reply_error(ctx, 400, "x-session-id must be 1 to 128 visible ASCII characters",
                                       "invalid_session_id");
    e.session = std::string(*header);
  }
  const bool body_read = ctx.body_fields.has_value();
  std::optional<uint64_t> fields_max_output;
  if (const auto& fields = ctx.body_fields) {
    if (fields->model) e.model = *fields->model;
    // An alias is counted as the model that serves it first.
    if (const config::ModelAlias* alias = config::find_model_alias(config_.model_aliases, e.model)) e.model = alias->models.front();
    if (e.session.empty() && fields->session_id && acceptable_session(*fields->session_id))
      e.session = *fields->session_id;
    if (e.session.empty() && fields->user && acceptable_session(*fields->user)) e.session = *fields->user;
    fields_max_output = fields->max_output_tokens;
  }
  r.session = e.session;
  r.model = e.model;
  const int64_t now_ms = unix_ms();
  CounterPlan plan;
  const pipeline::Caller& c = ctx.caller;
  rules_.plan({c.tenant, c.agent_group, c.agent, c.key_id, e.model, e.session}, now_ms, plan);
  if (c.policy && c.policy->key_limits.any()) plan_key_limits(*c.policy, now_ms, plan);

  // Prompt tokens are counted only when something needs them (a token or cost counter, the guard, fan-out).
  bool needs_tokens = policy.sessions.context_guard != config::ContextGuard::Off || policy.fanout.enabled;
  for (uint32_t rule : plan.rules) needs_tokens |= rule == pseudo(kKeyTpm) || rule == pseudo(kKeyBudget) ||
                                                   (rule < rules_.rules().size() &&
                                                    rules_.rules()[rule].unit != config::LimitUnit::Requests);
  bool estimated = false;
  if (body_read && needs_tokens) {
    const auto shape = ctx.api == config::Api::Gemini
                           ? providers::gemini_usage_shape(ctx.head->path())
                           : providers::usage_shape_for(ctx.api == config::Api::Anthropic, ctx.head->path());
    tokens::PromptEstimate prompt;
    if (shape == providers::UsageShape::AnthropicMessages) prompt = estimator_.estimate_anthropic_messages(ctx.body);
    else if (shape == providers::UsageShape::OpenAIResponses) prompt = estimator_.estimate_openai_responses(ctx.body);
    else if (shape == providers::UsageShape::OpenAIChat) prompt = estimator_.estimate_openai_chat(ctx.body);
    if (shape == providers::UsageShape::OpenAIChat || shape == providers::UsageShape::OpenAIResponses ||
        shape == providers::UsageShape::AnthropicMessages || shape == providers::UsageShape::GeminiGenerate) {
      estimated = true;
      // No BPE token is shorter than one byte: the body size bounds what the estimator could not read (a Gemini
      // prompt is not estimated: Gemini's tokenizer is not public).
      e.prompt_tokens = prompt.ok ? prompt.tokens : ctx.body.size();
      if (fields_max_output) {
        e.max_output_tokens = *fields_max_output;
      } else if (const config::ModelPrice* entry = prices_.entry_for(e.model); entry && entry->max_output_tokens) {
        e.max_output_tokens = entry->max_output_tokens;
        e.output_bound_source = "the max_output_tokens of \"" + e.model + "\" in " + prices_.source();
      } else {
        e.max_output_tokens = policy.default_max_tokens;
        e.output_bound_source = "limits.default_max_tokens";
      }
    } else if (shape == providers::UsageShape::OpenAIEmbeddings) {
      estimated = true;
      e.prompt_tokens = ctx.body.size();  // an upper bound; settlement charges the exact count
    }
  }

  // Context-window guard: before anything is reserved or spent.
  if (estimated && policy.sessions.context_guard != config::ContextGuard::Off && e.max_output_tokens > 0) {
    for (const auto& w : policy.sessions.context_windows) {
      if (!glob_match(w.pattern, e.model)) continue;
      const uint64_t need = e.prompt_tokens + e.max_output_tokens;
      if (need > w.tokens) {
        const std::string message = "This model's maximum context length is " + std::to_string(w.tokens) +
                                    " tokens. However, you requested " + std::to_string(need) + " tokens (" +
                                    std::to_string(e.prompt_tokens) + " in the messages, " +
                                    std::to_string(e.max_output_tokens) +
                                    " in the completion). Please reduce the length of the messages or completion.";
        if (policy.sessions.context_guard == config::ContextGuard::Reject) {
          runtime_.count_context_guard("rejected");
          ctx.decision = {true, std::string(name()), "context_guard", message, {}};
          co_return pipeline::reply_error(ctx, 400, message, "context_length_exceeded");
        }
        runtime_.count_context_guard("warned");
        ctx.response_headers.emplace_back("x-tollway-context-warning",
                                          "prompt " + std::to_string(e.prompt_tokens) + " + max_tokens " +
                                              std::to_string(e.max_output_tokens) + " exceeds the context window " +
                                              std::to_string(w.tokens) + " of " + e.model);
      }
      break;
    }
  }

  // Money fails closed: a model without a price under a USD limit is refused unless pricing.unpriced says
  // otherwise (charged at the default price, or admitted without USD charge).
  bool usd_limited = false;
  for (uint32_t rule : plan.rules) usd_limited |= unit_of(rule, r) == config::LimitUnit::CostUsd;  // key limits too
  usd_limited |= policy.fanout.enabled && policy.fanout.unit == config::LimitUnit::CostUsd;
  if (estimated && usd_limited && prices_.entry_for(e.model) == nullptr) {
    switch (config_.pricing.unpriced) {
      case config::Unpriced::Deny: {
        runtime_.count_unpriced("denied");
        const std::string message =
            "Model \"" + e.model + "\" has no price in " + prices_.source() +
            ", and a USD limit applies to this request: it is refused so that spending stays bounded "
            "(pricing.unpriced: deny). Add the model to the price table, or set pricing.unpriced to default or allow.";
        ctx.decision = {true, std::string(name()), "unpriced_model", message, {}};
        co_return pipeline::reply_error(ctx, 403, message, "model_not_priced");
      }
      case config::Unpriced::Default:
        runtime_.count_unpriced("default_price");
        break;
      case config::Unpriced::Allow:
        runtime_.count_unpriced("allowed");
        r.usd_uncharged = true;
        break;
    }
  }

  UnitAmounts amounts;
  amounts.input_tokens = static_cast<int64_t>(e.prompt_tokens);
  amounts.output_tokens = static_cast<int64_t>(e.max_output_tokens);
  if (estimated && !r.usd_uncharged)
    amounts.cost_micro_usd = prices_.cost(e.model, {e.prompt_tokens, e.max_output_tokens, 0, 0, 0}).cost_micro_usd;

  // Fan-out budget: a signed grant in baggage charges its tree; a root request may be granted one.
  if (policy.fanout.enabled) {
    std::vector<std::string_view> lines;
    for (const auto& h : ctx.head->headers)
      if (http::iequals(h.name, "baggage")) lines.push_back(h.value);
    std::optional<FanoutGrant> grant;
    for (const auto& entry : telemetry::parse_baggage(lines).entries) {
      if (entry.key != kFanoutBaggageKey) continue;
      std::string why;
      grant = fanout_.verify(entry.value, now_ms / 1000, why);
      if (!grant) {
        ctx.decision = {true, std::string(name()), "fanout", why, {}};
        co_return pipeline::reply_error(ctx, 403, "The tollway-fanout baggage member was refused: " + why,
                                         "invalid_fanout_budget");
      }
      break;
    }
    if (!grant) {
      int64_t budget = policy.fanout.default_budget;
      if (auto asked = ctx.head->find("x-tollway-fanout-budget")) {
        int64_t n = -1;
        const std::string text(*asked);
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n <= 0 ||
            n > policy.fanout.max_budget)
          co_return pipeline::reply_error(ctx, 400,
                                           "x-tollway-fanout-budget must be a whole number from 1 to " +
                                               std::to_string(policy.fanout.max_budget) + " (" +
                                               LimitRules::unit_name(policy.fanout.unit) + ")",
                                           "invalid_fanout_budget");
        budget = n;
      }
      if (budget > 0) {
        grant = FanoutGrant{FanoutSigner::new_root(), policy.fanout.unit, budget,
                            now_ms / 1000 + policy.fanout.ttl.count() / 1000};
        const std::string token = fanout_.mint(*grant);
        ctx.response_headers.emplace_back("x-tollway-fanout-baggage",
                                          std::string(kFanoutBaggageKey) + "=" + token);
      }
    }
    if (grant) {
      Counter& counter = plan.counters.emplace_back();
      counter.key = "fanout|" + grant->root;
      counter.algorithm = CounterAlgorithm::Budget;
      counter.limit = grant->budget;
      counter.window_ms = std::max<int64_t>(1, grant->expires_s * 1000 - now_ms);
      plan.rules.push_back(static_cast<uint32_t>(rules_.rules().size()));  // the fan-out pseudo-rule
      r.fanout_root = grant->root;
      r.fanout_unit = grant->unit;
    }
  }

  // A `body: raw` route's body is not read: token and cost amounts cannot be bounded, so only request counts
  // apply.
  if (providers::route_of(ctx)->body == config::RouteBody::Raw) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < plan.counters.size(); ++i) {
      if (unit_of(plan.rules[i], r) != config::LimitUnit::Requests) {
        if (plan.rules[i] == pseudo(kFanout)) r.fanout_root.clear();  // the tree is not charged either
        continue;
      }
      if (kept != i) {
        plan.counters[kept] = std::move(plan.counters[i]);
        plan.rules[kept] = plan.rules[i];
      }
      ++kept;
    }
    plan.counters.resize(kept);
    plan.rules.resize(kept);
  }
  if (plan.counters.empty()) co_return pipeline::Verdict::Continue;

  std::vector<int64_t> reserve(plan.counters.size());
  for (std::size_t i = 0; i < reserve.size(); ++i) reserve[i] = amounts.of(unit_of(plan.rules[i], r));
  ReserveResult result;
  if (runtime_.strict()) result = co_await runtime_.ledger().reserve(plan.counters, reserve, now_ms);
  else if (LeasedLedger* leased = runtime_.leased()) {
    if (!leased->reserve_now(plan.counters, reserve, now_ms, result))  // a lease to wait for
      result = co_await leased->reserve(plan.counters, reserve, now_ms);
  }
  else result = runtime_.local_ledger().reserve_now(plan.counters, reserve, now_ms);
  // Counted per request; logged by the strict ledger once per outage, not per request.
  if (result.store_error) runtime_.count_store_error();
  r.counters = std::move(plan.counters);
  r.amounts = std::move(reserve);
  r.rules = std::move(plan.rules);
  r.generations.clear();
  for (CounterState& state : result.states) r.generations.push_back(std::move(state.generation));
  for (std::size_t i = 0; i < r.counters.size(); ++i) {
    if (!r.counters[i].shadow || !result.states[i].would_deny) continue;
    const std::string& rule = rule_name(r.rules[i]);
    ctx.decision.shadow_rules.push_back(rule);
    runtime_.count_shadow_denial(rule);
    log::info("limits shadow denial", json::ObjectWriter()
                                          .field("request_id", ctx.request_id)
                                          .field("rule", rule)
                                          .field("counter", r.counters[i].key)
                                          .field("amount", r.amounts[i])
                                          .field("remaining", result.states[i].remaining));
  }
  runtime_.count_decision(result.admitted);
  if (!result.admitted) {
    deny(ctx, result, e);
    r.counters.clear();
    r.amounts.clear();
    r.rules.clear();
    r.generations.clear();
    co_return pipeline::Verdict::Replied;
  }
  r.open = true;
  runtime_.reservation_opened();
  add_rate_headers(ctx.response_headers, r, result);
  check_budget_alerts(r, result);
  co_return pipeline::Verdict::Continue;
}

void LimitsFilter::plan_key_limits(const auth::CallerPolicy& policy, int64_t now_ms, CounterPlan& plan) const {
  const auth::KeyLimits& limits = policy.key_limits;
  auto add = [&](PseudoRule rule, Counter counter) {
    plan.counters.push_back(std::move(counter));
    plan.rules.push_back(pseudo(rule));
  };
  if (limits.rpm > 0)
    add(kKeyRpm, Counter{"key|" + policy.key_id + "|rpm", CounterAlgorithm::Gcra, limits.rpm, kMinuteMs, false,
                         OnStoreError::Deny, {}});
  if (limits.tpm > 0)
    add(kKeyTpm, Counter{"key|" + policy.key_id + "|tpm", CounterAlgorithm::Gcra, limits.tpm, kMinuteMs, false,
                         OnStoreError::Deny, {}});
  if (limits.max_budget_micro_usd > 0) add(kKeyBudget, key_budget_counter(policy.key_id, limits, now_ms));
}

config::LimitUnit LimitsFilter::unit_of(uint32_t rule, const Reservation& r) const {
  if (rule < rules_.rules().size()) return rules_.rules()[rule].unit;
  switch (rule - rules_.rules().size()) {
    case kKeyRpm: return config::LimitUnit::Requests;
    case kKeyTpm: return config::LimitUnit::TotalTokens;
    case kKeyBudget: return config::LimitUnit::CostUsd;
    default: return r.fanout_unit;
  }
}

const std::string& LimitsFilter::rule_name(uint32_t rule) const {
  static const std::string names[] = {"fanout", "key_rpm", "key_tpm", "key_budget"};
  return rule < rules_.rules().size() ? rules_.rules()[rule].name : names[rule - rules_.rules().size()];
}

void LimitsFilter::deny(pipeline::RequestCtx& ctx, const ReserveResult& result, const Estimate& e) const {
  const Reservation& r = ctx.features.get<Reservation>();
  // The counter that denied; with several, the one that frees up last (or one that never will).
  std::size_t worst = r.counters.size();
  for (std::size_t i = 0; i < r.counters.size(); ++i) {
    const CounterState& s = result.states[i];
    if (!s.would_deny || r.counters[i].shadow) continue;
    if (worst == r.counters.size() || s.retry_after_ms < 0 ||
        (result.states[worst].retry_after_ms >= 0 && s.retry_after_ms > result.states[worst].retry_after_ms))
      worst = i;
  }
  if (worst == r.counters.size()) worst = 0;  // a store error denied without a counter of its own
  const Counter& counter = r.counters[worst];
  const CounterState& state = result.states[worst];
  const uint32_t rule = r.rules[worst];
  const config::LimitUnit unit = unit_of(rule, r);
  const std::string& name = rule_name(rule);
  const bool fanout = rule == pseudo(kFanout);
  const bool budget = rule < rules_.rules().size() ? rules_.rules()[rule].budget : rule == pseudo(kKeyBudget);
  std::string message;
  if (state.store_unavailable || (result.store_error && !state.would_deny)) {
    message = "The limits store could not be reached and the policy denies in that case: " + result.error;
  } else {
    if (fanout) message = "The fan-out budget of this agent tree is spent";
    else if (rule == pseudo(kKeyBudget)) message = "The budget of this key is spent for its current period";
    else if (budget) message = "Budget \"" + name + "\" is exhausted for the current period";
    else message = "Rate limit \"" + name + "\" exceeded";
    message += ": this request needs " + amount_text(unit, r.amounts[worst]) + ", " +
               amount_text(unit, state.remaining) + " remain of " + amount_text(unit, counter.limit) + ".";
    if (state.retry_after_ms < 0) message += " The request is larger than the whole limit and can never fit.";
    else message += " Retry after " + reset_text(state.retry_after_ms) + ".";
    if (!e.output_bound_source.empty() && unit != config::LimitUnit::Requests &&
        unit != config::LimitUnit::InputTokens)
      message += " The request sets no max_tokens, so " + std::to_string(e.max_output_tokens) +
                 " output tokens were reserved (" + e.output_bound_source +
                 "); set max_tokens to what the answer needs to reserve less.";
  }
  runtime_.count_denial(name);
  ctx.decision.denied = true;
  ctx.decision.filter = std::string(this->name());
  ctx.decision.rule = name;
  ctx.decision.reason = message;
  pipeline::reply_error(ctx, 429, message,
                         fanout ? "fanout_budget_exceeded" : budget ? "budget_exceeded" : "rate_limit_exceeded");
  if (state.retry_after_ms >= 0) {
    const int64_t ms = std::max<int64_t>(1, state.retry_after_ms);
    ctx.reply.headers.emplace_back("retry-after", std::to_string((ms + 999) / 1000));
    ctx.reply.headers.emplace_back("retry-after-ms", std::to_string(ms));
  }
  add_rate_headers(ctx.reply.headers, r, result);
}

void LimitsFilter::add_rate_headers(pipeline::HeaderList& headers, const Reservation& r,
                                    const ReserveResult& result) const {
  // Per family (requests, tokens): the enforced counter with the least room decides what the caller sees.
  for (const bool tokens : {false, true}) {
    std::size_t pick = r.counters.size();
    for (std::size_t i = 0; i < r.counters.size(); ++i) {
      if (r.counters[i].shadow || i >= result.states.size()) continue;
      const config::LimitUnit unit = unit_of(r.rules[i], r);
      if (tokens ? !is_token_unit(unit) : unit != config::LimitUnit::Requests) continue;
      if (pick == r.counters.size() || result.states[i].remaining < result.states[pick].remaining) pick = i;
    }
    if (pick == r.counters.size()) continue;
    const std::string suffix = tokens ? "tokens" : "requests";
    headers.emplace_back("x-ratelimit-limit-" + suffix, std::to_string(r.counters[pick].limit));
    headers.emplace_back("x-ratelimit-remaining-" + suffix, std::to_string(result.states[pick].remaining));
    headers.emplace_back("x-ratelimit-reset-" + suffix, reset_text(result.states[pick].reset_ms));
  }
}

void LimitsFilter::check_budget_alerts(const Reservation& r, const ReserveResult& result) const {
  for (std::size_t i = 0; i < r.counters.size(); ++i) {
    const uint32_t rule = r.rules[i];
    const int64_t remaining = result.states[i].remaining;
    if (rule == pseudo(kKeyBudget)) {
      const std::string& key = r.counters[i].key;  // "key|<id>|budget|<period start>"
      runtime_.set_budget_remaining("key_budget", key.substr(4, key.find('|', 4) - 4), remaining);
      continue;
    }
    if (rule >= rules_.rules().size() || !rules_.rules()[rule].budget) continue;
    const RuleInfo& info = rules_.rules()[rule];
    runtime_.set_budget_remaining(info.name, budget_counter_label(r.counters[i].key), remaining);
    const int64_t used_after = info.limit - remaining;
    const int64_t used_before = used_after - r.amounts[i];
    for (int threshold : info.alerts) {
      // Crossed when the used amount reaches threshold% (integer arithmetic, rounded up).
      const int64_t mark = (info.limit * threshold + 99) / 100;
      if (used_before >= mark || used_after < mark) continue;
      if (!runtime_.first_crossing(info.name, r.counters[i].key, threshold)) continue;
      log::warn("budget alert", json::ObjectWriter()
                                    .field("budget", info.name)
                                    .field("counter", r.counters[i].key)
                                    .field("threshold_percent", static_cast<int64_t>(threshold))
                                    .field("used", used_after)
                                    .field("limit", info.limit)
                                    .field("unit", LimitRules::unit_name(info.unit)));
    }
  }
}

asio::awaitable<void> LimitsFilter::settle(pipeline::RequestCtx& ctx) {
  Reservation& r = ctx.features.get<Reservation>();
  const pipeline::Usage& u = ctx.usage;
  // Usage is known (reported or estimated) exactly when an upstream answered and its body was read; otherwise
  // nothing was consumed and the whole reservation is released. A `body: raw` route's answers carry no usage
  // the gateway reads: a 2xx from the provider is charged as one request and no tokens.
  const bool raw_call_served = providers::route_of(ctx)->body == config::RouteBody::Raw && ctx.outcome.upstream_contacted &&
                               ctx.outcome.status >= 200 && ctx.outcome.status < 300;
  const bool charged = u.known || u.estimated || raw_call_served;
  UnitAmounts actual;
  actual.requests = charged ? 1 : 0;
  actual.input_tokens = charged ? static_cast<int64_t>(u.input_tokens) : 0;
  actual.output_tokens = charged ? static_cast<int64_t>(u.output_tokens) : 0;
  actual.cost_micro_usd = charged && !r.usd_uncharged ? u.cost_micro_usd : 0;
  if (r.open) {
    r.open = false;  // closed before any await: nothing can settle it a second time
    runtime_.reservation_closed();
    std::vector<int64_t> spent(r.counters.size());
    for (std::size_t i = 0; i < spent.size(); ++i) spent[i] = actual.of(unit_of(r.rules[i], r));
    const int64_t now_ms = unix_ms();
    if (runtime_.strict()) {
      if (!co_await runtime_.ledger().settle(r.counters, r.amounts, r.generations, spent, now_ms)) {
        runtime_.count_settle_failure();
        log::warn("limits settle failed", json::ObjectWriter().field("request_id", ctx.request_id));
      }
    } else {
      runtime_.local_ledger().settle_now(r.counters, r.amounts, spent, now_ms);
    }
  }
  if (charged) {
    if (SpendLog* log = runtime_.spend_log()) {
      SpendRecord rec;
      rec.at_ms = unix_ms();
      rec.request_id = ctx.request_id;
      rec.tenant = ctx.caller.tenant;
      rec.agent_group = ctx.caller.agent_group;
      rec.agent = ctx.caller.agent;
      rec.key_id = ctx.caller.key_id;
      rec.model = r.model;         // the counters settle charged: a replay charges the same ones
      rec.served_model = ctx.model;  // what answered (a fallback's model), priced in cost_micro_usd
      rec.session = r.session;
      rec.provider = ctx.upstream.provider;
      rec.fanout_root = r.fanout_root;
      rec.requests = 1;
      rec.input_tokens = actual.input_tokens;
      rec.output_tokens = actual.output_tokens;
      rec.cached_input_tokens = static_cast<int64_t>(u.cached_input_tokens);
      rec.cost_micro_usd = actual.cost_micro_usd;
      rec.estimated = u.estimated;
      log->append(std::move(rec));
    }
  }
  co_return;
}

uint64_t restore_budgets(const config::LimitsPolicy& policy, SpendLog& log, LocalLedger& ledger, int64_t now_ms) {
  int64_t since = now_ms;
  for (const auto& b : policy.budgets) since = std::min(since, calendar_period(b.period, now_ms).start_ms);
  if (policy.fanout.enabled) since = std::min(since, now_ms - policy.fanout.ttl.count());
  if (since == now_ms) return 0;
  const LimitRules rules(policy);
  CounterPlan plan;
  uint64_t replayed = 0;
  log.replay(since, [&](const SpendRecord& rec) {
    ++replayed;
    const UnitAmounts spent{rec.requests, rec.input_tokens, rec.output_tokens, rec.cost_micro_usd};
    plan.clear();
    rules.plan({rec.tenant, rec.agent_group, rec.agent, rec.key_id, rec.model, rec.session}, now_ms, plan);
    for (std::size_t i = 0; i < plan.counters.size(); ++i) {
      const RuleInfo& info = rules.rules()[plan.rules[i]];
      if (!info.budget) continue;
      const auto& b = policy.budgets[plan.rules[i] - policy.rules.size()];
      if (rec.at_ms < calendar_period(b.period, now_ms).start_ms) continue;  // an earlier period
      ledger.charge(plan.counters[i], spent.of(info.unit), now_ms);
    }
    if (!rec.fanout_root.empty() && policy.fanout.enabled) {
      const Counter tree{"fanout|" + rec.fanout_root, CounterAlgorithm::Budget, 1, policy.fanout.ttl.count(), false,
                         OnStoreError::Deny, {}};
      ledger.charge(tree, spent.of(policy.fanout.unit), now_ms);
    }
  });
  return replayed;
}

Counter key_budget_counter(std::string_view key_id, const auth::KeyLimits& limits, int64_t now_ms) {
  const CalendarPeriod period = recurring_period(limits.budget_anchor_s * 1000, limits.budget_every_s * 1000,
                                                 limits.budget_every_months, now_ms);
  const int64_t window = period.end_ms - now_ms > kLifetimeBudgetWindowMs ? kLifetimeBudgetWindowMs
                                                                          : period.end_ms - now_ms;
  return Counter{"key|" + std::string(key_id) + "|budget|" + period.label, CounterAlgorithm::Budget,
                 limits.max_budget_micro_usd, std::max<int64_t>(1, window), false, OnStoreError::Deny, {}};
}

std::size_t restore_key_budgets(const std::string& spend_log_path,
                                const std::vector<std::pair<std::string, auth::KeyLimits>>& keys,
                                LocalLedger& ledger, int64_t now_ms) {
  std::size_t restored = 0;
  for (const auto& [key_id, limits] : keys) {
    if (limits.max_budget_micro_usd <= 0) continue;
    const CalendarPeriod period = recurring_period(limits.budget_anchor_s * 1000, limits.budget_every_s * 1000,
                                                   limits.budget_every_months, now_ms);
    const SpendTotals spent = key_spend_since(spend_log_path, key_id, period.start_ms);
    ledger.charge(key_budget_counter(key_id, limits, now_ms), spent.cost_micro_usd, now_ms);
    ++restored;
  }
  return restored;
}

}  // namespace tollway::limits
