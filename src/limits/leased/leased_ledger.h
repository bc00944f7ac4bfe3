// LeasedLedger: the Ledger of `ledger: leased` — budgets shared by a fleet, decided in process. Each budget counter
// is checked by the in-process LocalLedger against this process's lease (a cumulative allowance of the global
// budget, valid until an expiry) instead of the global limit; rate rules, fan-out trees and virtual keys' own budgets
// stay per process. A sync loop on the
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

  boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters,
                                                std::span<const int64_t> amounts, int64_t now_ms) override;
  boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                      std::span<const std::string> generations, std::span<const int64_t> actual,
                                      int64_t now_ms) override;

  void render_metrics(std::string& out) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Held {
    Counter counter;           // as the policy built it: limit = the global limit
    int64_t period_end_ms = 0;
    int64_t granted = 0;       // cumulative allowance of this process
    Clock::time_point expires{};
    bool ever_granted = false;
    int64_t global_remaining = 0;
    int64_t reported_used = 0;
    Clock::time_point reported_at{};
    int64_t safe_base = -1;  // this process's use when its lease expired (safe mode), -1 while valid
  };
  enum class Need { Nothing, Lease };
  // Sets each leased counter's limit in `limits` to what this process may spend of it now, and its entry in
  // `fleet_remaining` to what the fleet has left beyond every lease (others are left as they are); Need::Lease when
  // some counter has no lease yet, or is exhausted and waits for a larger one.
  Need adjust(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms, bool may_wait,
              std::span<int64_t> limits, std::span<int64_t> fleet_remaining);
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
