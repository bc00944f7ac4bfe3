// SpendLog: the durable record of every settled charge (SQLite, appended in batches by a background thread, fsync
// policy in docs/operations.md). Budgets are rebuilt from it at start, so a restart or a crash loses no spend
// that was recorded; the spend API and `tollway spend` read it through their own connections (spend_query.h).
// Opening migrates an older file's schema in place. Appending never blocks the event loop. A batch whose commit
// fails (disk full, database locked, I/O error) is kept and retried, never dropped while the process runs; the
// failure is logged once per episode and counted. It must never lose an accepted record silently: the only
// losses are a full queue (the record is refused, counted) and a shutdown while commits still fail (counted, logged).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tollway::limits {

// One settled call, with every dimension a limit or budget can be keyed by. `model` is the model the limits'
// counters were reserved for (the requested model, an alias resolved to its first model), so that replaying the
// record charges the same counters settle charged; `served_model` and `provider` say what answered (another model
// and provider after a fallback), and the tokens and cost are that answer's.
struct SpendRecord {
  int64_t at_ms = 0;  // settlement time, ms since the Unix epoch
  std::string request_id;
  std::string tenant, agent_group, agent, key_id, model, session, provider;
  std::string served_model;
  std::string fanout_root;  // root request id of a fan-out budget, "" when none
  int64_t requests = 1;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_input_tokens = 0;  // part of input_tokens read from the provider's prompt cache
  int64_t cost_micro_usd = 0;
  bool estimated = false;  // the provider reported no usage; an estimate was charged
};

struct SpendLogOptions {
  std::string path;             // SQLite database file
  int flush_interval_ms = 100;  // a batch is committed at least this often
  std::size_t max_batch = 512;  // ... or when this many records wait
  bool fsync_each_batch = true; // PRAGMA synchronous=FULL (true) or NORMAL (false)
  std::size_t max_queue = 100000;  // records waiting beyond this are counted as dropped (never blocks)
  int max_retry_interval_ms = 2000;  // after a failed commit, retries back off from flush_interval up to this
                                     // (up to flush_interval when that is longer)
  int busy_timeout_ms = 5000;        // how long a commit waits for another process's lock before it fails
};

class SpendLog {
 public:
  // Opens (creates) the database; throws std::runtime_error with a precise message on failure.
  static std::unique_ptr<SpendLog> open(const SpendLogOptions& options);
  virtual ~SpendLog() = default;  // flushes what is queued
  // Queues a record for the next batch; thread-safe, never blocks on I/O.
  virtual void append(SpendRecord record) = 0;
  // Calls `visit` for every record with at_ms >= since_ms, oldest first (used at start to rebuild budgets).
  virtual void replay(int64_t since_ms, const std::function<void(const SpendRecord&)>& visit) = 0;
  // Blocks until everything appended so far is committed (true), or until a commit attempt of it failed (false:
  // the records stay queued and are retried). Never waits longer than one commit attempt while commits fail.
  virtual bool flush() = 0;
  virtual uint64_t appended() const = 0;  // records committed
  virtual uint64_t dropped() const = 0;   // records lost: refused by a full queue, or still failing at shutdown
  virtual uint64_t commit_failures() const = 0;  // failed commit attempts (each batch kept and retried)
  virtual std::size_t waiting() const = 0;       // records queued or kept for a retry, not yet committed
  // True from a failed commit until the next successful one (the spend log's fail mode applies meanwhile).
  virtual bool failing() const = 0;
  virtual const std::string& path() const = 0;
};

}  // namespace tollway::limits
