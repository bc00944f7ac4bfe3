// LeasedLedger: the Ledger of `ledger: leased` — budgets shared by a fleet, decided in process. Each budget counter
// is checked by the in-process LocalLedger against this process's lease (a cumulative allowance of the global
// budget, valid until an expiry) instead of the global limit; rate rules, fan-out trees and virtual keys' own budgets
// stay per process. The lease lives in the counter's LocalLedger cell, so a decision is one lookup per counter
// under its stripe lock, timed by the caller's now_ms (no clock read of its own). A sync loop on the
// control thread reports the use of every budget key and takes the next leases every sync interval, and at once
// when a lease runs low or a key has none yet. What happens when a lease has no room, or has expired because no
// control plane answered, is each counter's LeaseModes. It never blocks a worker on the network (a waiting
// request waits on a timer of its own thread) and never counts use twice (reports are cumulative).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "limits/leased/lease_source.h"
#include "limits/local_ledger.h"

namespace tollway::limits {

class LeasedLedger final : public Ledger {
 public:
  LeasedLedger(std::shared_ptr<LocalLedger> local, std::shared_ptr<LeaseSource> source);
  ~LeasedLedger() override;

  // Starts the sync loop on the control thread's context.
  void start(boost::asio::io_context& control);

  // The filter's hot path: decides at once, without a coroutine, unless a counter must wait for a lease (a key's
  // first request, or on_lease_exhausted: wait without room); then it returns false, reserving nothing, and the
  // caller co_awaits reserve().
  bool reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                   ReserveResult& result);
  boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters,
                                                std::span<const int64_t> amounts, int64_t now_ms) override;
  boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                      std::span<const std::string> generations, std::span<const int64_t> actual,
                                      int64_t now_ms) override;

  void render_metrics(std::string& out) const;

 private:
  using Clock = std::chrono::steady_clock;
  // The sync loop's record of one key (mutex_); the decisions' copy of the lease is in the key's LocalLedger cell.
  struct Held {
    Counter counter;  // as the policy first built it (key and period)
    int64_t period_end_ms = 0;
    int64_t granted = 0;  // cumulative allowance of this process
    Clock::time_point expires{};
    bool ever_granted = false;
    int64_t reported_used = 0;
    Clock::time_point reported_at{};
  };
  class Decision;  // the BudgetLeases of one reserve
  // reserve() once its first decision waits for a lease: waits (at most two sync intervals) for the next answer,
  // then decides without waiting again.
  boost::asio::awaitable<ReserveResult> reserve_after_lease(std::span<const Counter> counters,
                                                            std::span<const int64_t> amounts, int64_t now_ms);
  // One decision: false (nothing reserved) when may_wait and some counter waits for a lease.
  bool decide(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms, bool may_wait,
              ReserveResult& result);
  // Adds the leased counters the sync loop does not know yet.
  void register_keys(std::span<const Counter> counters, int64_t now_ms);
  void request_sync();
  boost::asio::awaitable<void> sync_loop();
  boost::asio::awaitable<void> sync_once();

  std::shared_ptr<LocalLedger> local_;
  std::shared_ptr<LeaseSource> source_;
  boost::asio::io_context* control_ = nullptr;
  std::unique_ptr<boost::asio::steady_timer> timer_;  // the loop's wait; cancelled for an early sync
  std::atomic<bool> sync_requested_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> sync_interval_ms_{1000};
  std::atomic<uint64_t> generation_{0};  // bumped by every applied answer
  bool failing_ = false;                 // the last sync failed (control thread only)

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Held> held_;
  std::atomic<uint64_t> syncs_ok_{0}, syncs_failed_{0}, waits_{0}, overdraft_units_{0}, expired_decisions_{0};
};

}  // namespace tollway::limits
