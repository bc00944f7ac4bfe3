#include "sidecar/limit_filter.h"

#include <algorithm>
#include <chrono>

#include "core/glob.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "limits/policy.h"
#include "mcp/rpc_calls.h"
#include "providers/usage/extract.h"
#include "sidecar/call_destination.h"
#include "sidecar/filters.h"
#include "sidecar/gateway_route.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

namespace prometheus = core::prometheus;

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t amount_of(config::LimitUnit unit, int64_t requests, uint64_t input_tokens, uint64_t output_tokens) {
  switch (unit) {
    case config::LimitUnit::Requests: return requests;
    case config::LimitUnit::InputTokens: return static_cast<int64_t>(input_tokens);
    case config::LimitUnit::OutputTokens: return static_cast<int64_t>(output_tokens);
    default: return static_cast<int64_t>(input_tokens + output_tokens);
  }
}

bool rule_matches(const LocalLimitRule& rule, const tls::SpiffeId& caller, std::string_view destination,
                  LocalLimitRule::Named named, std::string_view name) {
  if (rule.counts_tokens() && destination != kGatewayDestination) return false;
  if (rule.named != named) return false;
  if (named != LocalLimitRule::Named::Calls &&
      std::none_of(rule.names.begin(), rule.names.end(),
                   [&](const std::string& pattern) { return glob_match(pattern, name); }))
    return false;
  if (!rule.from.empty()) {
    bool from = false;
    for (const auto& pattern : rule.from) from = from || pattern.matches(caller);
    if (!from) return false;
  }
  if (rule.to.empty()) return true;
  for (const auto& to : rule.to)
    if (to == destination) return true;
  return false;
}

void log_decision(const pipeline::RequestCtx& ctx, std::string_view decision, const LocalLimitRule& rule,
                  std::string_view caller, std::string_view destination, std::string_view destination_id,
                  int64_t retry_after_ms) {
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("decision", decision)
      .field("rule", rule.name)
      .field("source_spiffe_id", caller)
      .field("destination", destination)
      .field("destination_spiffe_id", destination_id)
      .field("method", ctx.head->method)
      .field("path", ctx.head->path())
      .field("retry_after_ms", retry_after_ms);
  log::info("limit decision", w);
}

}  // namespace

void LocalLimitState::start_leased(std::shared_ptr<limits::LeaseSource> source, boost::asio::io_context& control) {
  if (leased_) return;
  leased_ = std::make_unique<limits::LeasedLedger>(local_, std::move(source));
  leased_->start(control);
}

void LocalLimitState::count_denial(const std::string& rule, bool shadow) {
  std::lock_guard lock(mutex_);
  ++(shadow ? shadow_denials_ : denials_)[rule];
}

void LocalLimitState::render_metrics(std::string& out) const {
  std::lock_guard lock(mutex_);
  prometheus::family(out, "tollway_sidecar_limit_denials_total", "counter",
                     "Calls the sidecar refused (429) by a local limit, by the rule that refused them.");
  for (const auto& [rule, n] : denials_)
    prometheus::sample(out, "tollway_sidecar_limit_denials_total", prometheus::labels({{"rule", rule}}), n);
  prometheus::family(out, "tollway_sidecar_limit_shadow_denials_total", "counter",
                     "Calls a shadow-mode local limit would have refused (they went on), by rule.");
  for (const auto& [rule, n] : shadow_denials_)
    prometheus::sample(out, "tollway_sidecar_limit_shadow_denials_total", prometheus::labels({{"rule", rule}}), n);
  prometheus::family(out, "tollway_sidecar_limit_counters", "gauge", "Counters held by the in-process ledger.");
  prometheus::sample(out, "tollway_sidecar_limit_counters", "", local_->counters_held());
  if (leased_) leased_->render_metrics(out);
}

void plan_local_limits(const LocalLimitsConfig& config, const LimitedCall& call, int64_t now_ms,
                       std::vector<limits::Counter>& counters, std::vector<int64_t>& amounts,
                       std::vector<uint32_t>& rules) {
  const auto caller = tls::SpiffeId::parse(call.caller);
  if (!caller) return;
  for (uint32_t i = 0; i < config.rules.size(); ++i) {
    const LocalLimitRule& rule = config.rules[i];
    if (!rule_matches(rule, *caller, call.destination, call.named, call.name)) continue;
    limits::Counter c;
    c.limit = rule.limit;
    c.shadow = rule.shadow;
    if (rule.budget) {
      c.key = "budget|" + rule.name;
      if (rule.per_from) c.key += "|from";
      if (rule.per_to) c.key += "|to";
      if (rule.per_from) limits::append_key_value(c.key, call.caller);
      if (rule.per_to) limits::append_key_value(c.key, call.destination);
      if (rule.per_name) limits::append_key_value(c.key, call.name);
      limits::set_budget_period(c, rule.period, now_ms);
      if (config.leased) c.lease = limits::lease_modes(rule.lease);
    } else {
      c.key = "sidecar|" + rule.name + "|" + (rule.per_from ? std::string(call.caller) : "*") + "|" +
              (rule.per_to ? std::string(call.destination) : "*");
      if (rule.per_name) c.key += "|" + std::string(call.name);
      c.algorithm = limits::CounterAlgorithm::Gcra;
      c.window_ms = rule.window.count();
    }
    counters.push_back(std::move(c));
    amounts.push_back(amount_of(rule.unit, 1, call.input_tokens, call.output_tokens));
    rules.push_back(i);
  }
}

namespace {

// "per 60s" for a rule, "per UTC day" for a budget.
std::string per_what(const LocalLimitRule& rule) {
  if (!rule.budget) return "per " + std::to_string(rule.window.count() / 1000) + "s";
  return rule.period == config::BudgetPeriod::Day ? "per UTC day" : "per UTC month";
}

}  // namespace

asio::awaitable<pipeline::Verdict> LocalLimits::admit(pipeline::RequestCtx& ctx) {
  const LocalLimitsConfig& limits = config_->local_limits;
  const auto [destination, destination_id] = call_destination(*config_, ctx);
  LimitedCall call;
  call.caller = ctx.listener == kInboundListener
                    ? std::string_view(ctx.peer_identity != nullptr ? ctx.peer_identity->spiffe_id : std::string_view())
                    : std::string_view(config_->spiffe_id);
  call.destination = destination;
  if (destination.empty() || call.caller.empty()) co_return pipeline::Verdict::Continue;
  // An LLM call under a token rule reserves its prompt, counted, and the most output it may produce.
  bool token_rule = false;
  for (const auto& rule : limits.rules) token_rule |= rule.counts_tokens();
  if (destination == kGatewayDestination && token_rule) {
    const config::Api api = gateway_call_api(ctx.head->path());
    const auto shape = providers::usage_shape_for(api == config::Api::Anthropic, ctx.head->path());
    tokens::PromptEstimate prompt;
    if (shape == providers::UsageShape::AnthropicMessages) prompt = estimator_.estimate_anthropic_messages(ctx.body);
    else if (shape == providers::UsageShape::OpenAIResponses) prompt = estimator_.estimate_openai_responses(ctx.body);
    else if (shape == providers::UsageShape::OpenAIChat) prompt = estimator_.estimate_openai_chat(ctx.body);
    call.input_tokens = prompt.ok ? prompt.tokens : ctx.body.size();  // no token is shorter than a byte
    if (shape == providers::UsageShape::OpenAIChat || shape == providers::UsageShape::OpenAIResponses ||
        shape == providers::UsageShape::AnthropicMessages) {
      const auto& fields = ctx.body_fields;
      call.output_tokens = fields && fields->max_output_tokens ? *fields->max_output_tokens : limits.default_max_tokens;
    }
  }
  limits::Reservation& r = ctx.features.get<limits::Reservation>();
  const int64_t now_ms = unix_ms();
  plan_local_limits(limits, call, now_ms, r.counters, r.amounts, r.rules);
  for (const auto& rpc_call : mcp::rpc_calls_of(ctx.features)) {  // each tools/call of an MCP body, each A2A message, by its name
    call.named = rpc_call.tool      ? LocalLimitRule::Named::Tools
                 : rpc_call.message ? LocalLimitRule::Named::Skills
                                    : LocalLimitRule::Named::Calls;
    call.name = rpc_call.target;
    if (call.named != LocalLimitRule::Named::Calls && !call.name.empty())
      plan_local_limits(limits, call, now_ms, r.counters, r.amounts, r.rules);
  }
  if (r.counters.empty()) co_return pipeline::Verdict::Continue;
  limits::LeasedLedger* leased = limits.leased ? state_.leased() : nullptr;
  limits::ReserveResult result;  // (GCC 12 miscompiles a co_await inside ?:, so no conditional expression here)
  if (leased != nullptr) {
    if (!leased->reserve_now(r.counters, r.amounts, now_ms, result))  // a lease to wait for
      result = co_await leased->reserve(r.counters, r.amounts, now_ms);
  } else result = state_.ledger().reserve_now(r.counters, r.amounts, now_ms);
  const LocalLimitRule* denying = nullptr;
  int64_t retry_after_ms = 0;
  for (std::size_t i = 0; i < result.states.size(); ++i) {
    if (!result.states[i].would_deny) continue;
    const LocalLimitRule& rule = limits.rules[r.rules[i]];
    state_.count_denial(rule.name, rule.shadow);
    log_decision(ctx, rule.shadow ? "shadow_deny" : "deny", rule, call.caller, destination, destination_id,
                 result.states[i].retry_after_ms);
    if (rule.shadow) {
      ctx.decision.shadow_rules.push_back(rule.name);
    } else if (denying == nullptr) {
      denying = &rule;
      retry_after_ms = result.states[i].retry_after_ms;
    }
  }
  if (!result.admitted) {
    r.counters.clear();
    r.amounts.clear();
    r.rules.clear();
    const int64_t seconds = std::max<int64_t>(1, (retry_after_ms + 999) / 1000);
    ctx.response_headers.emplace_back("retry-after", std::to_string(seconds));
    const std::string what = denying == nullptr ? std::string("limits")
                             : denying->budget ? "budget \"" + denying->name + "\""
                                               : "local limit \"" + denying->name + "\"";
    std::string message = std::string(call.caller) + " -> " + std::string(destination) + ": " + what + " exceeded";
    if (denying != nullptr && denying->named != LocalLimitRule::Named::Calls)
      for (const auto& rpc_call : mcp::rpc_calls_of(ctx.features)) {
        const bool tool = denying->named == LocalLimitRule::Named::Tools;
        if ((tool ? !rpc_call.tool : !rpc_call.message) ||
            std::none_of(denying->names.begin(), denying->names.end(),
                         [&](const std::string& p) { return glob_match(p, rpc_call.target); }))
          continue;
        message += (tool ? " by tool \"" : " by skill \"") + rpc_call.target + "\"";
        break;
      }
    if (denying != nullptr)
      message += " (" + std::to_string(denying->limit) + " " + limits::LimitRules::unit_name(denying->unit) + " " +
                 per_what(*denying) + ")";
    message += "; retry after " + std::to_string(seconds) + "s";
    ctx.decision.denied = true;
    ctx.decision.filter = std::string(name());
    ctx.decision.rule = denying != nullptr ? denying->name : std::string();
    ctx.decision.reason = message;
    co_return pipeline::reply_error(ctx, 429, message, "rate_limit_exceeded");
  }
  r.open = true;
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<void> LocalLimits::settle(pipeline::RequestCtx& ctx) {
  limits::Reservation& r = ctx.features.get<limits::Reservation>();
  if (!r.open) co_return;
  r.open = false;
  // The request stays counted. Tokens: what the gateway's response reported, or the usage filter's estimate of a
  // stream that ended without it; none when no usage was read (an error answer, no answer).
  const pipeline::Usage& u = ctx.usage;
  const bool used = u.known || u.estimated;
  std::vector<int64_t> actual(r.counters.size());
  for (std::size_t i = 0; i < actual.size(); ++i)
    actual[i] = amount_of(config_->local_limits.rules[r.rules[i]].unit, 1, used ? u.input_tokens : 0,
                          used ? u.output_tokens : 0);
  state_.ledger().settle_now(r.counters, r.amounts, actual, unix_ms());
  co_return;
}

}  // namespace tollway::sidecar
