// SQLite SpendLog (see spend_log.h): one writer thread commits the queued records in one transaction per batch;
// WAL mode, synchronous FULL or NORMAL by options. A failed batch is kept and retried with backoff. The queue
// (with what is kept for a retry) is bounded: a full queue refuses new records and counts them.
#include "limits/spend_log.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/log.h"

namespace tollway::limits {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS spend ("
    " id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, request_id TEXT NOT NULL, tenant TEXT NOT NULL,"
    " agent_group TEXT NOT NULL, agent TEXT NOT NULL, key_id TEXT NOT NULL, model TEXT NOT NULL,"
    " session TEXT NOT NULL, provider TEXT NOT NULL, fanout_root TEXT NOT NULL, requests INTEGER NOT NULL,"
    " input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,"
    " estimated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS spend_by_time ON spend (at_ms, id);";

// Schema changes after the first version, applied in order to a file whose PRAGMA user_version is lower (a file
// created by an older tollway, or a new one, which starts at version 0 with kSchema). Each step runs in one
// transaction together with the version bump, so a crash leaves the file at the old or the new version.
constexpr const char* kMigrations[] = {
    // 1: cached prompt tokens per record; per-key totals (key budgets, GET /admin/keys/{id}) without a scan.
    "ALTER TABLE spend ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX IF NOT EXISTS spend_by_key ON spend (key_id, at_ms);",
    // 2: the model a fallback served when it is not the model the limits reserved for (`model`); '' when the same.
    "ALTER TABLE spend ADD COLUMN served_model TEXT NOT NULL DEFAULT '';",
};

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("spend log: cannot prepare a statement: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::string column_string(sqlite3_stmt* s, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

class SqliteSpendLog final : public SpendLog {
 public:
  SqliteSpendLog(sqlite3* db, const SpendLogOptions& options) : db_(db), options_(options) {
    writer_ = std::thread([this] { write_loop(); });
  }

  ~SqliteSpendLog() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_writer_.notify_one();
    writer_.join();
    sqlite3_close(db_);
  }

  void append(SpendRecord record) override {
    {
      std::lock_guard lock(mutex_);
      // The bound covers what the writer keeps for a retry too: while commits fail, new records are refused
      // (counted) and the older ones already accepted are kept.
      if (queue_.size() + writing_ >= options_.max_queue) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(record));
      ++accepted_;
      waiting_.store(queue_.size() + writing_, std::memory_order_relaxed);
      // The writer sleeps without a timer while the queue is empty: the first record starts its flush interval.
      if (queue_.size() != 1 && queue_.size() < options_.max_batch) return;
    }
    wake_writer_.notify_one();
  }

  void replay(int64_t since_ms, const std::function<void(const SpendRecord&)>& visit) override {
    Statement q(db_,
                "SELECT at_ms, request_id, tenant, agent_group, agent, key_id, model, session, provider, fanout_root,"
                " requests, input_tokens, output_tokens, cost_micro_usd, estimated, cached_input_tokens, served_model FROM spend"
                " WHERE at_ms >= ?"
                " ORDER BY at_ms, id");
    sqlite3_bind_int64(q.get(), 1, since_ms);
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      SpendRecord r;
      sqlite3_stmt* s = q.get();
      r.at_ms = sqlite3_column_int64(s, 0);
      r.request_id = column_string(s, 1);
      r.tenant = column_string(s, 2);
      r.agent_group = column_string(s, 3);
      r.agent = column_string(s, 4);
      r.key_id = column_string(s, 5);
      r.model = column_string(s, 6);
      r.session = column_string(s, 7);
      r.provider = column_string(s, 8);
      r.fanout_root = column_string(s, 9);
      r.requests = sqlite3_column_int64(s, 10);
      r.input_tokens = sqlite3_column_int64(s, 11);
      r.output_tokens = sqlite3_column_int64(s, 12);
      r.cost_micro_usd = sqlite3_column_int64(s, 13);
      r.estimated = sqlite3_column_int64(s, 14) != 0;
      r.cached_input_tokens = sqlite3_column_int64(s, 15);
      r.served_model = column_string(s, 16);
      visit(r);
    }
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("spend log: reading \"") + options_.path + "\" failed: " +
                               sqlite3_errmsg(db_));
  }

  bool flush() override {
    std::unique_lock lock(mutex_);
    const uint64_t target = accepted_;
    const uint64_t failures_before = failures_;
    flush_requested_ = true;
    wake_writer_.notify_one();
    batch_done_.wait(lock, [&] { return finished_ >= target || failures_ > failures_before; });
    return finished_ >= target;
  }

  uint64_t appended() const override { return committed_.load(std::memory_order_relaxed); }
  const std::string& path() const override { return options_.path; }
  uint64_t dropped() const override { return dropped_.load(std::memory_order_relaxed); }
  uint64_t commit_failures() const override { return commit_failures_.load(std::memory_order_relaxed); }
  std::size_t waiting() const override { return waiting_.load(std::memory_order_relaxed); }
  bool failing() const override { return failing_.load(std::memory_order_relaxed); }

 private:
  // Commits the queue in batches. A failed batch stays in `batch` and is tried again, together with whatever was
  // queued meanwhile, after a backoff from flush_interval doubling up to max_retry_interval_ms (or flush_interval
  // when that is longer).
  void write_loop() {
    std::vector<SpendRecord> batch;
    std::chrono::milliseconds retry_delay{options_.flush_interval_ms};
    const std::chrono::milliseconds max_retry_delay{std::max(options_.flush_interval_ms, options_.max_retry_interval_ms)};
    std::unique_lock lock(mutex_);
    for (;;) {
      if (batch.empty()) {
        wake_writer_.wait(lock, [&] { return stopping_ || flush_requested_ || !queue_.empty(); });
        wake_writer_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms), [&] {
          return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch;
        });
      } else {
        wake_writer_.wait_for(lock, retry_delay, [&] { return stopping_; });
        retry_delay = std::min(retry_delay * 2, max_retry_delay);
      }
      flush_requested_ = false;
      if (batch.empty() && queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      // Oldest first: a kept batch, then what was queued after it.
      batch.insert(batch.end(), std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      writing_ = batch.size();
      const bool last_try = stopping_;
      lock.unlock();
      std::string step, error;
      const bool ok = commit(batch, step, error);
      if (ok) recovered(batch.size());
      else failed(step, error, batch.size());
      lock.lock();
      if (ok) {
        committed_.fetch_add(batch.size(), std::memory_order_relaxed);
        finished_ += batch.size();
        batch.clear();
        retry_delay = std::chrono::milliseconds(options_.flush_interval_ms);
      } else {
        ++failures_;
        if (last_try) {
          // Shutdown while commits fail: nothing more can be done for these records; counted and logged.
          log::error("spend log: records lost at shutdown; commits still fail",
                     json::ObjectWriter().field("path", options_.path).field("records", batch.size())
                         .field("step", step).field("error", error));
          dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
          finished_ += batch.size();
          batch.clear();
        }
      }
      writing_ = batch.size();
      waiting_.store(queue_.size() + writing_, std::memory_order_relaxed);
      batch_done_.notify_all();
      if (last_try && queue_.empty()) return;
    }
  }

  // One transaction for the whole batch; on failure nothing of it is written (`step` and `error` say why).
  bool commit(const std::vector<SpendRecord>& batch, std::string& step, std::string& error) {
    auto fail = [&](const char* at) {
      step = at;
      error = sqlite3_errmsg(db_);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    };
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("BEGIN");
    try {
      Statement insert(db_,
                       "INSERT INTO spend (at_ms, request_id, tenant, agent_group, agent, key_id, model, session,"
                       " provider, fanout_root, requests, input_tokens, output_tokens, cost_micro_usd, estimated,"
                       " cached_input_tokens, served_model) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      sqlite3_stmt* s = insert.get();
      for (const auto& r : batch) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, r.at_ms);
        int i = 2;
        for (const std::string* text : {&r.request_id, &r.tenant, &r.agent_group, &r.agent, &r.key_id, &r.model,
                                        &r.session, &r.provider, &r.fanout_root})
          sqlite3_bind_text(s, i++, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
        sqlite3_bind_int64(s, 11, r.requests);
        sqlite3_bind_int64(s, 12, r.input_tokens);
        sqlite3_bind_int64(s, 13, r.output_tokens);
        sqlite3_bind_int64(s, 14, r.cost_micro_usd);
        sqlite3_bind_int64(s, 15, r.estimated ? 1 : 0);
        sqlite3_bind_int64(s, 16, r.cached_input_tokens);
        sqlite3_bind_text(s, 17, r.served_model.data(), static_cast<int>(r.served_model.size()), SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) return fail("INSERT");
      }
    } catch (const std::runtime_error& e) {
      step = "PREPARE";
      error = e.what();
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("COMMIT");
    return true;
  }

  // The first failure of an episode is logged; later ones are only counted.
  void failed(const std::string& step, const std::string& error, std::size_t records) {
    commit_failures_.fetch_add(1, std::memory_order_relaxed);
    if (failing_.exchange(true, std::memory_order_relaxed)) return;
    failing_since_ = std::chrono::steady_clock::now();
    log::error("spend log: commit failed; records kept and retried",
               json::ObjectWriter().field("path", options_.path).field("step", step).field("error", error)
                   .field("records", records));
  }

  void recovered(std::size_t records) {
    if (!failing_.exchange(false, std::memory_order_relaxed)) return;
    const auto failed_for = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - failing_since_);
    log::warn("spend log: commits succeed again",
              json::ObjectWriter().field("path", options_.path).field("failed_for_ms", failed_for.count())
                  .field("records", records));
  }

  sqlite3* db_;
  SpendLogOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_writer_, batch_done_;
  std::vector<SpendRecord> queue_;
  std::size_t writing_ = 0;  // records the writer holds (being committed, or kept for a retry)
  uint64_t accepted_ = 0;    // records queued so far
  uint64_t finished_ = 0;    // records committed, or lost at shutdown
  uint64_t failures_ = 0;    // failed commit attempts, for flush()
  bool flush_requested_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point failing_since_;  // writer thread only
  std::atomic<uint64_t> committed_{0}, dropped_{0}, commit_failures_{0};
  std::atomic<std::size_t> waiting_{0};
  std::atomic<bool> failing_{false};
  std::thread writer_;
};

// Brings the schema to the newest version; false with `error` when a step fails (the file keeps its version).
bool migrate(sqlite3* db, std::string& error) {
  int64_t version = 0;
  {
    Statement q(db, "PRAGMA user_version");
    if (sqlite3_step(q.get()) == SQLITE_ROW) version = sqlite3_column_int64(q.get(), 0);
  }
  const int64_t newest = static_cast<int64_t>(std::size(kMigrations));
  for (int64_t step = version; step < newest; ++step) {
    const std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[step] +
                            "PRAGMA user_version=" + std::to_string(step + 1) + ";COMMIT;";
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      error = "migration to schema version " + std::to_string(step + 1) + " failed: " + (message ? message : "");
      sqlite3_free(message);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }
  return true;
}

}  // namespace

std::unique_ptr<SpendLog> SpendLog::open(const SpendLogOptions& options) {
  if (options.flush_interval_ms <= 0 || options.max_batch == 0 || options.max_queue == 0)
    throw std::runtime_error("spend log: flush_interval_ms, max_batch and max_queue must be positive");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(options.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = "cannot open the spend log \"" + options.path + "\": " +
                          (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    throw std::runtime_error(message);
  }
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  const std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                            (options.fsync_each_batch ? "FULL" : "NORMAL") + ";" + kSchema;
  char* message = nullptr;
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = "cannot initialise the spend log \"" + options.path + "\": " + (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
    throw std::runtime_error(error);
  }
  if (std::string error; !migrate(db, error)) {
    sqlite3_close(db);
    throw std::runtime_error("cannot migrate the spend log \"" + options.path + "\": " + error);
  }
  return std::make_unique<SqliteSpendLog>(db, options);
}

}  // namespace tollway::limits
