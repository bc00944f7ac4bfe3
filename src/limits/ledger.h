// Ledger: where limit and budget counters live, and the one operation admission needs — reserve a request's
// amounts on every counter it touches, all or nothing — plus settlement, which replaces a reservation by what was
// really used. Two algorithms share it: GCRA rate limits (no fixed-window double burst) and calendar budgets
// (hard caps that reset with the period). Backends: LocalLedger (in process, exact for one instance),
// RedisLedger (strict: one Lua script per reserve and per settle, exact across replicas) and LeasedLedger (in
// process against leases of a global budget from the control plane). A ledger never decides
// policy (which counters, which amounts); the LimitsFilter does, and hands it fully specified counters.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tollway::limits {

enum class CounterAlgorithm {
  // GCRA over a sliding window: `limit` units per `window_ms`, bursts up to `limit`. State: the theoretical
  // arrival time TAT (double, ms since the Unix epoch). Emission interval T = window_ms / limit per unit.
  // reserve n: tat = max(TAT, now); new_tat = tat + n*T; admitted iff new_tat - now <= window_ms;
  //   retry_after_ms = new_tat - window_ms - now when denied; remaining = floor((window_ms - (new_tat - now)) / T).
  // settle (reserved r, actual a): TAT = max(TAT + (a - r)*T, now) — a refund never creates credit in the past.
  Gcra,
  // Calendar budget: `limit` units per period (the counter key names the period, e.g. "...|2026-12"). State:
  // used (int64, settled charges + open reservations). reserve n: admitted iff used + n <= limit.
  // settle: used += a - r. `window_ms` is the time until the period ends (reset, and the key's TTL).
  Budget,
};

// What a strict ledger does with a counter when its store cannot answer (Redis down or too slow).
enum class OnStoreError {
  Deny,   // fail closed: the request is denied (429/503 by policy of the filter)
  Allow,  // fail open: the counter is skipped, nothing is counted for it
  Local,  // count it in process (per replica) for a bounded time, then deny
};

// What a leased ledger does with a budget counter whose lease has no room left, and whose lease expired because
// the control plane could not be reached (ledger: leased; docs/operations.md states the overspend each allows).
enum class OnLeaseExhausted {
  Deny,   // the request is denied (429) until the next lease
  Wait,   // an early sync is asked for, and the request waits (at most two sync intervals) for a larger lease
  Allow,  // the request is admitted beyond the lease, and the overdraft counted
};
enum class OnControlUnreachable {
  LastLease,  // what is left of the last lease is spent, then deny
  Safe,       // a fixed safe_allowance per lease lifetime past the expiry (Doorman's safe capacity)
  Deny,       // nothing is spent without a valid lease
};
struct LeaseModes {
  OnLeaseExhausted on_lease_exhausted = OnLeaseExhausted::Deny;
  OnControlUnreachable on_control_unreachable = OnControlUnreachable::LastLease;
  int64_t safe_allowance = 0;
};

// One counter a request touches, fully specified by the policy.
struct Counter {
  std::string key;  // unique per rule, dimension values and (budgets) period; also the Redis key suffix
  CounterAlgorithm algorithm = CounterAlgorithm::Gcra;
  int64_t limit = 0;      // units per window (Gcra) or per period (Budget); > 0
  int64_t window_ms = 0;  // > 0
  bool shadow = false;    // reported (would_deny) but never denies and never blocks the others
  OnStoreError on_store_error = OnStoreError::Deny;  // strict ledgers only; LocalLedger never errs
  LeaseModes lease;                                  // leased ledgers only (Budget counters)
};

// The state of one counter after a reserve.
struct CounterState {
  bool would_deny = false;     // this counter had no room for its amount (shadow counters too)
  int64_t remaining = 0;       // units left after this reservation (or now, when denied)
  int64_t reset_ms = 0;        // ms until the counter is full again (Gcra) / the period ends (Budget)
  int64_t retry_after_ms = 0;  // when denied: ms until the amount would fit (Budget: reset_ms, or -1 if never)
  bool store_unavailable = false;  // decided by on_store_error Deny / Allow (or Local past its time), not by state
  // The incarnation of the counter the amount was reserved in, handed back to settle (strict ledger: the Redis
  // key's generation, new whenever the key is created again; "" when nothing was reserved in the store).
  std::string generation;
};

struct ReserveResult {
  bool admitted = false;              // every non-shadow counter had room; then all amounts were reserved
  std::vector<CounterState> states;   // same order as the counters passed in
  bool store_error = false;           // the store could not answer for at least one counter (e.g. Redis down)
  std::string error;                  // why, when store_error
  // When store_error: admitted/states follow each counter's on_store_error (Deny → would_deny, Allow → skipped
  // and reported with remaining = limit, Local → decided by an in-process ledger while the fallback lasts);
  // states decided by Deny / Allow have store_unavailable set, so the caller can say why.
};

class Ledger {
 public:
  virtual ~Ledger() = default;
  // Atomically: if every non-shadow counter has room for its amount, reserve every amount (shadow counters
  // are charged too, so they report what they would have seen); otherwise reserve nothing. amounts[i] >= 0
  // belongs to counters[i]. now_ms: wall clock, ms since the Unix epoch (passed in so tests control time).
  virtual boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters,
                                                        std::span<const int64_t> amounts, int64_t now_ms) = 0;
  // Replace reserved[i] by actual[i] on counters[i] (actual may exceed reserved: it is charged all the same).
  // generations[i] is the reserve's states[i].generation: when the counter was lost and created again since
  // (a store restarted empty, a failover, an eviction), it no longer holds the reservation, so nothing is given
  // back and only actual[i] - reserved[i] above zero is charged (refunds are lost, never spend).
  // Returns false when the backend could not apply it (the caller logs and counts; spend is in the spend log).
  virtual boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                              std::span<const std::string> generations,
                                              std::span<const int64_t> actual, int64_t now_ms) = 0;
};

}  // namespace tollway::limits
