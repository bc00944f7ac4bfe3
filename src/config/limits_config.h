// Typed configuration of token-aware rate limits and budgets (the policy keys of the `limits:` section, read
// by src/limits/admission/config.cc): which ledger decides, the Redis and spend-log settings the strict ledger
// and the spend log are built from, the rules and budgets, sessions and fan-out budgets. Plain validated values; it
// never refers to limits:: types (config sits below limits) and holds the fan-out secret only as a value,
// never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tollway::config {

enum class LedgerMode { Local, Strict, Leased };

// What a limit counts. Cost is counted in micro-dollars (1e-6 USD); the config writes it in USD.
enum class LimitUnit { Requests, InputTokens, OutputTokens, TotalTokens, CostUsd };

// The request dimensions a rule can match on and split its counters by.
enum class Dimension { Tenant, AgentGroup, Agent, Key, Model, Session };

// What a strict ledger does with a rule's counter when Redis cannot answer (mirrors limits::OnStoreError).
enum class StoreErrorPolicy { Deny, Allow, Local };

// Which requests a rule applies to: every set field must match (globs, core/glob.h); "" = any value.
// A rule with a non-empty `session` glob only applies to requests that carry a session id.
struct LimitMatch {
  std::string tenant, agent_group, agent, key, model, session;
};

// A GCRA rate limit: `limit` units per `window` with bursts up to `limit`, no fixed-window double burst.
struct RateLimitRule {
  std::string name;  // unique among rules and budgets; in metrics, logs and the decision log
  LimitMatch match;
  std::vector<Dimension>
      per;  // one counter per distinct value tuple of these dimensions; empty = one counter
  LimitUnit unit = LimitUnit::TotalTokens;
  int64_t limit = 0;  // > 0 (micro-USD for cost_usd)
  std::chrono::milliseconds window{60'000};
  bool shadow = false;  // mode: shadow reports would-be denials, never denies
  StoreErrorPolicy on_store_error = StoreErrorPolicy::Deny;
  int line = 0;  // config line, for messages
};

// Leased budgets (ledger: leased): what a node does when its lease has no room left for a request, and when its
// lease expired because the control plane could not be reached (mirrors limits::LeaseModes).
enum class LeaseExhausted { Deny, Wait, Allow };
enum class ControlUnreachable { LastLease, Safe, Deny };

struct LeaseModes {
  LeaseExhausted on_lease_exhausted = LeaseExhausted::Deny;
  ControlUnreachable on_control_unreachable = ControlUnreachable::LastLease;
  int64_t safe_allowance = 0;  // units a node may spend per lease lifetime past an expired lease (safe mode)
  bool operator==(const LeaseModes&) const = default;
};

enum class BudgetPeriod { Day, Month };  // UTC calendar day / month

// A hard cap that resets at the start of each UTC calendar period; alerts at the given percentages.
struct BudgetRule {
  std::string name;
  LimitMatch match;
  std::vector<Dimension> per;
  LimitUnit unit = LimitUnit::CostUsd;
  int64_t limit = 0;  // > 0 (micro-USD for cost_usd)
  BudgetPeriod period = BudgetPeriod::Month;
  std::vector<int> alerts{50, 80, 100};  // ascending percentages 1..100
  bool shadow = false;
  StoreErrorPolicy on_store_error = StoreErrorPolicy::Deny;
  LeaseModes lease;  // ledger: leased only; the section's `leased` settings unless the budget sets its own
  int line = 0;
};

// `limits.redis`: the shared store of the strict ledger (consumed by limits::RedisLedgerOptions).
struct RedisLedgerConfig {
  std::string url;                        // redis://[:password@]host:port[/db]; required when ledger: strict
  std::chrono::milliseconds timeout{50};  // one reserve or settle round trip
  std::string key_prefix = "tollway:";
  std::chrono::milliseconds local_fallback_max{
      30'000};  // how long on_store_error: local may count in process
};

// What the gateway does with new requests while the spend log cannot commit (records are kept and retried
// either way): Allow serves them (their records wait in the bounded queue), Deny refuses them with 503.
enum class SpendLogErrorPolicy { Allow, Deny };

// `limits.spend_log`: the durable record of settled charges (SQLite); "" path = none.
struct SpendLogConfig {
  std::string path;  // relative paths are relative to the config file
  std::chrono::milliseconds flush_interval{100};
  bool fsync = true;  // synchronous=FULL per batch (true) or NORMAL (false)
  SpendLogErrorPolicy on_error = SpendLogErrorPolicy::Allow;
};

enum class ContextGuard { Off, Warn, Reject };

struct ContextWindow {
  std::string pattern;  // model glob
  uint64_t tokens = 0;  // the model's context window (prompt + output)
};

// `limits.sessions`: the context-window guard (per-session budgets are rules/budgets with `per: [session]`).
struct SessionsConfig {
  ContextGuard context_guard = ContextGuard::Off;
  std::vector<ContextWindow> context_windows;  // first match wins; a model matching none is not guarded
};

// `limits.fanout`: a budget for one root request and every call of its agent tree, carried in signed baggage.
struct FanoutConfig {
  bool enabled = false;  // true when `secret` is set
  std::string secret;    // HMAC-SHA256 key (>= 32 bytes); never logged
  LimitUnit unit = LimitUnit::TotalTokens;
  int64_t default_budget = 0;  // minted for a root request that asks for none; 0 = only on request
  int64_t max_budget = 0;      // the largest budget a root request may ask for (x-tollway-fanout-budget)
  std::chrono::milliseconds ttl{3'600'000};  // a tree's budget expires this long after it was minted
};

// The policy part of the `limits:` section (the HTTP size limits there are config::Limits).
struct LimitsPolicy {
  bool enabled() const {
    return !rules.empty() || !budgets.empty() || fanout.enabled ||
           sessions.context_guard != ContextGuard::Off;
  }
  LedgerMode ledger = LedgerMode::Local;
  LeaseModes leased;  // `limits.leased`: the default lease modes of every budget (ledger: leased)
  RedisLedgerConfig redis;
  SpendLogConfig spend_log;
  uint64_t default_max_tokens = 4096;  // reserved for output when a request sets no max_tokens
  std::vector<RateLimitRule> rules;
  std::vector<BudgetRule> budgets;
  SessionsConfig sessions;
  FanoutConfig fanout;
};

}  // namespace tollway::config
