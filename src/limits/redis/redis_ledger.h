// RedisLedger: the `strict` ledger. Every replica reserves and settles in one Redis (7) with one Lua script call
// per reserve and one per settle (EVALSHA; scripts loaded once per connection; EVAL after NOSCRIPT), so admission is linearizable across any
// number of gateways and the limit is never overspent beyond what settlement adds over a reservation. Each
// worker thread uses its own pipelined connection (RedisConnection::of), so nothing on the request path locks.
// When Redis cannot answer, each counter follows its on_store_error (Deny, Allow, or Local: an in-process ledger
// for at most local_fallback_max_s from the start of the outage, then Deny); outages are counted and logged once
// per transition. It never decides policy and never blocks a thread: every Redis exchange is awaited.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "limits/ledger.h"
#include "limits/redis/connection.h"

namespace tollway::limits::redis {

struct RedisLedgerOptions {
  RedisOptions redis;
  std::string key_prefix = "tollway:ledger:";  // prepended to every Counter::key
  int64_t budget_ttl_slack_ms = 3600 * 1000;   // budget keys live until the period ends plus this
  int local_fallback_max_s = 60;               // how long Local counters are decided in process per outage
};

// Counters for /metrics and the benchmark; monotonic, read with relaxed loads.
struct RedisLedgerStats {
  uint64_t reserve_calls = 0;    // reserve() invocations
  uint64_t settle_calls = 0;     // settle() invocations
  uint64_t script_commands = 0;  // EVALSHA + EVAL commands sent (round trips)
  uint64_t noscript_reloads = 0; // EVALSHA answered NOSCRIPT, resent as EVAL
  uint64_t store_errors = 0;     // reserve/settle calls Redis could not answer
  uint64_t outages = 0;          // transitions from reachable to unreachable
  uint64_t denied_by_store_error = 0;    // counters decided Deny (incl. Local past its time)
  uint64_t allowed_by_store_error = 0;   // counters skipped (Allow)
  uint64_t local_fallback_decisions = 0; // counters decided in process (Local)
  uint64_t settle_failures = 0;          // settlements Redis did not apply
  bool store_up = true;
};

class RedisLedger final : public Ledger {
 public:
  // `local_fallback` decides Local counters during an outage (may be null: Local then behaves as Deny).
  RedisLedger(RedisLedgerOptions options, std::shared_ptr<Ledger> local_fallback);

  boost::asio::awaitable<ReserveResult> reserve(std::span<const Counter> counters, std::span<const int64_t> amounts,
                                                int64_t now_ms) override;
  boost::asio::awaitable<bool> settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                      std::span<const std::string> generations, std::span<const int64_t> actual,
                                      int64_t now_ms) override;
  // Opens the calling thread's connection and loads both scripts, retrying after each backoff until `deadline`;
  // true once Redis answered. Run on every worker thread before it serves, so connecting never counts as an
  // outage; false (logged once as an outage) when Redis did not answer in time.
  boost::asio::awaitable<bool> connect(std::chrono::steady_clock::time_point deadline);

  RedisLedgerStats stats() const;
  // Prometheus text for /metrics (tollway_ledger_redis_* families).
  void render_metrics(std::string& out) const;
  const RedisLedgerOptions& options() const { return options_; }

 private:
  // This thread's connection, with the scripts' SCRIPT LOAD as its preamble.
  RedisConnection& connection_of(const boost::asio::any_io_executor& executor);
  // Runs one script (EVALSHA, then EVAL on NOSCRIPT) on this thread's connection.
  boost::asio::awaitable<RedisReply> run_script(const std::string& sha, std::string_view script,
                                                const std::vector<std::string>& keys_and_args, std::size_t keys);
  ReserveResult parse_reserve_reply(const RespValue& reply, std::size_t counters, std::string& error) const;
  boost::asio::awaitable<ReserveResult> reserve_without_store(std::span<const Counter> counters,
                                                              std::span<const int64_t> amounts, int64_t now_ms,
                                                              std::string error);
  void store_failed(const std::string& error);  // a reserve or settle got no answer
  void note_unreachable(const std::string& error);  // starts an outage (logged, counted) unless one runs
  void store_answered();
  bool local_fallback_active() const;

  RedisLedgerOptions options_;
  std::shared_ptr<Ledger> local_;
  std::string reserve_sha_, settle_sha_;
  std::string load_reserve_, load_settle_;  // SCRIPT LOAD commands, sent once per connection

  std::atomic<int64_t> outage_since_ms_{0};  // steady clock ms of the first failure of the current outage; 0 = up
  // Reservations made in process during an outage, by (key, amount): their settlement goes to the same place.
  std::mutex local_reservations_mutex_;
  std::multimap<std::string, int64_t> local_reservations_;
  std::atomic<std::size_t> local_reservation_count_{0};

  std::atomic<uint64_t> reserve_calls_{0}, settle_calls_{0}, script_commands_{0}, noscript_reloads_{0},
      store_errors_{0}, outages_{0}, denied_by_store_error_{0}, allowed_by_store_error_{0},
      local_fallback_decisions_{0}, settle_failures_{0};
};

}  // namespace tollway::limits::redis
