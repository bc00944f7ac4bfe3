// LocalLedger: the in-process Ledger (ledger.h), shared by every worker thread of one gateway; exact for one
// instance. Counters live in striped hash maps, one mutex per stripe; a reserve locks the stripes of its counters
// in ascending order (no deadlock), checks every counter, then applies all amounts or none. Idle counters
// (a GCRA whose TAT has passed, a budget whose period ended) are swept as the stripe is used.
// It never awaits, never allocates for a counter it already holds, and never decides policy.
#pragma once

#include <array>
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

  boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters, std::span<const int64_t> amounts,
                                                int64_t now_ms) override;
  boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                      std::span<const int64_t> actual, int64_t now_ms) override;

  // The same operations without a coroutine (the filter's hot path, the benchmark, tests).
  ReserveResult reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms);
  void settle_now(std::span<const Counter> counters, std::span<const int64_t> reserved,
                  std::span<const int64_t> actual, int64_t now_ms);
  // Charges `amount` without checking the limit (spend replayed from the spend log at start).
  void charge(const Counter& counter, int64_t amount, int64_t now_ms);

  std::size_t counters_held() const;  // for tests and /stats

 private:
  struct Cell {
    double tat_ms = 0;       // Gcra: theoretical arrival time
    int64_t used = 0;        // Budget: settled + reserved
    int64_t expires_ms = 0;  // the cell can be dropped from this moment on (its state equals a fresh one)
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };
  struct alignas(64) Stripe {
    std::mutex mutex;
    std::unordered_map<std::string, Cell, KeyHash, KeyEqual> cells;
    uint32_t operations = 0;
  };
  static constexpr std::size_t kStripes = 64;  // one bit each in a uint64_t lock mask

  std::size_t stripe_of(std::string_view key) const { return KeyHash{}(key) % kStripes; }
  Cell& cell(Stripe& stripe, std::string_view key);
  static void sweep(Stripe& stripe, int64_t now_ms);
  static int64_t gcra_expiry(const Cell& cell, const Counter& c);
  uint64_t stripe_mask(std::span<const Counter> counters) const;

  std::unique_ptr<std::array<Stripe, kStripes>> stripes_;
};

}  // namespace tollway::limits
