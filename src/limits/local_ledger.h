// LocalLedger: the in-process Ledger (ledger.h), shared by every worker thread of one gateway; exact for one
// instance. Counters live in striped hash maps, one spin lock per stripe; a reserve locks the stripes of its
// counters in ascending order (no deadlock), checks every counter, then applies all amounts
// or none. Idle counters (a GCRA whose TAT has passed, a budget whose period ended) are swept as the stripe
// is used. It never awaits, never allocates for a counter it already holds, and never decides policy.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/ledger.h"

namespace tollway::limits {

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
  // `budget_limits` (empty, or one per counter): each Budget counter's limit for this call instead of its own (a
  // leased ledger's lease), so the caller need not copy its counters to change them.
  ReserveResult reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                            std::span<const int64_t> budget_limits = {});
  void settle_now(std::span<const Counter> counters, std::span<const int64_t> reserved,
                  std::span<const int64_t> actual, int64_t now_ms);
  // Charges `amount` without checking the limit (spend replayed from the spend log at start).
  void charge(const Counter& counter, int64_t amount, int64_t now_ms);

  // What a Budget counter holds now (settled + reserved; 0 when it was never charged or its period ended),
  // without changing it; for the admin API.
  int64_t budget_used(const Counter& counter, int64_t now_ms) const;

  std::size_t counters_held() const;  // for tests and /stats

 private:
  struct Cell {
    double tat_ms = 0;       // Gcra: theoretical arrival time
    int64_t used = 0;        // Budget: settled + reserved
    int64_t expires_ms = 0;  // the cell can be dropped from this moment on (its state equals a fresh one)
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

  std::unique_ptr<std::array<Stripe, kStripes>> stripes_;
};

}  // namespace tollway::limits
