// LocalLedger: the in-process Ledger (ledger.h), shared by every worker thread of one gateway; exact for one
// instance. Counters live in striped hash maps, one spin lock per stripe; a reserve locks the stripes of its
// counters in ascending order (no deadlock), checks every counter, then applies all amounts
// or none. Idle counters (a GCRA whose TAT has passed, a budget whose period ended) are swept as the stripe
// is used. A leased budget's lease (ledger: leased) is kept in its counter's cell, so one lookup under one stripe
// lock decides both; what a lease allows is the BudgetLeases' decision, not this ledger's. It never awaits, never
// allocates for a counter it already holds, and never decides policy.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/ledger.h"

namespace tollway::limits {

// The lease of one leased budget key on this process, kept in the key's cell (written by the leased ledger's sync
// loop and its decisions, always under the cell's stripe lock).
struct BudgetLease {
  bool known = false;           // a leased ledger decided the key at least once (it is reported from then on)
  bool ever_granted = false;    // a control plane answered for the key at least once
  int64_t granted = 0;          // cumulative allowance of this process
  int64_t expires_ms = 0;       // valid while now_ms < this (Unix ms, the decisions' clock)
  int64_t limit = 0;            // the global limit as the policy last said
  int64_t fleet_remaining = 0;  // what the fleet had left beyond every lease at the last answer
  int64_t reported_used = 0;    // this process's use in its last answered report
  int64_t safe_base = -1;       // this process's use when its lease expired (safe mode), -1 while valid
};

// What a leased ledger decides for each Budget counter of one reserve, called under the counter's stripe lock with
// the counter's use so far and its lease. Never locks, awaits or allocates.
class BudgetLeases {
 public:
  struct Limit {
    int64_t limit = 0;             // the counter is decided against this instead of its own limit
    int64_t remaining_beyond = 0;  // added to the state's remaining (what the fleet has beyond this limit)
  };
  // `lease` is the cell's (all zero, known false, for a key no leased ledger has decided yet).
  virtual Limit budget_limit(const Counter& counter, int64_t amount, int64_t used, int64_t now_ms,
                             BudgetLease& lease) = 0;
  // Set by budget_limit when some counter waits for a lease: once every counter was checked, nothing is reserved
  // (the caller waits for a lease and asks again).
  bool wait_for_lease = false;

 protected:
  ~BudgetLeases() = default;
};

class LocalLedger final : public Ledger {
 public:
  LocalLedger();
  ~LocalLedger() override;

  boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters,
                                                std::span<const int64_t> amounts, int64_t now_ms) override;
  // `generations` are all "": a counter held in process is dropped only once it equals a fresh one, where a
  // refund gives nothing back, so it needs no generation.
  boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                      std::span<const std::string> generations, std::span<const int64_t> actual,
                                      int64_t now_ms) override;

  // The same operations without a coroutine (the filter's hot path, the benchmark, tests).
  ReserveResult reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms);
  // reserve_now with every Budget counter decided against what `leases` says (a leased ledger's lease, kept in the
  // counter's cell). Returns false, reserving nothing and leaving `result` unspecified, when leases.wait_for_lease
  // is set after the check.
  bool reserve_leased(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                      BudgetLeases& leases, ReserveResult& result);
  void settle_now(std::span<const Counter> counters, std::span<const int64_t> reserved,
                  std::span<const int64_t> actual, int64_t now_ms);
  // Charges `amount` without checking the limit (spend replayed from the spend log at start).
  void charge(const Counter& counter, int64_t amount, int64_t now_ms);

  // What a Budget counter holds now (settled + reserved; 0 when it was never charged or its period ended),
  // without changing it; for the admin API.
  int64_t budget_used(const Counter& counter, int64_t now_ms) const;
  // Calls `update` with a Budget counter's use (settled + reserved) and its lease, creating both when absent, under
  // the counter's stripe lock; the cell is kept at least until `keep_until_ms` (the leased ledger's sync loop).
  void update_lease(const Counter& counter, int64_t keep_until_ms,
                    const std::function<void(int64_t used, BudgetLease& lease)>& update);

  std::size_t counters_held() const;  // for tests and /stats

 private:
  struct Cell {
    double tat_ms = 0;       // Gcra: theoretical arrival time
    int64_t used = 0;        // Budget: settled + reserved
    int64_t expires_ms = 0;  // the cell can be dropped from this moment on (its state equals a fresh one)
    BudgetLease lease;       // a leased budget's (in the cell itself: no second cache miss per decision)
  };
  // Keys carry their hash, computed once per counter per call: it picks the stripe (top bits) and the bucket.
  struct HashedKey {
    std::string key;
    std::size_t hash;
  };
  struct KeyRef {
    std::string_view key;
    std::size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const HashedKey& k) const noexcept { return k.hash; }
    std::size_t operator()(const KeyRef& k) const noexcept { return k.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return a.hash == b.hash && std::string_view(a.key) == std::string_view(b.key);
    }
  };
  // A stripe's lock: the critical sections are a few hash lookups (~100 ns), so waiting spins briefly, then
  // yields the core; unlocking is one release store (no read-modify-write, unlike std::mutex).
  class StripeLock {
   public:
    void lock() noexcept;
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> locked_{false};
  };
  struct alignas(64) Stripe {
    StripeLock mutex;
    std::unordered_map<HashedKey, Cell, KeyHash, KeyEqual> cells;
    uint32_t operations = 0;
  };
  static constexpr std::size_t kStripes = 64;  // one bit each in a uint64_t lock mask

  static KeyRef key_of(const Counter& c) { return {c.key, std::hash<std::string_view>{}(c.key)}; }
  static std::size_t stripe_of(const KeyRef& k) { return k.hash >> 58; }  // 64 stripes
  static Cell& cell(Stripe& stripe, const KeyRef& key);
  static void sweep(Stripe& stripe, int64_t now_ms);
  static int64_t gcra_expiry(const Cell& cell, const Counter& c);
  // Hashes every key once into `keys` (same order as counters) and returns the mask of their stripes.
  static uint64_t hash_keys(std::span<const Counter> counters, std::span<KeyRef> keys);
  // reserve_now and reserve_leased (leases null: every Budget counter against its own limit).
  bool reserve_with(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                    BudgetLeases* leases, ReserveResult& result);

  std::unique_ptr<std::array<Stripe, kStripes>> stripes_;
};

}  // namespace tollway::limits
