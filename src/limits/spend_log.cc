// SQLite SpendLog (see spend_log.h): one writer thread commits the queued records in one transaction per batch;
// WAL mode, synchronous FULL or NORMAL by options. The queue is bounded: a full queue drops and counts.
#include "limits/spend_log.h"

#include <sqlite3.h>

#include <atomic>
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
      if (queue_.size() >= options_.max_queue) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(record));
      ++accepted_;
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

  void flush() override {
    std::unique_lock lock(mutex_);
    const uint64_t target = accepted_;
    flush_requested_ = true;
    wake_writer_.notify_one();
    batch_done_.wait(lock, [&] { return finished_ >= target; });
  }

  uint64_t appended() const override { return committed_.load(std::memory_order_relaxed); }
  const std::string& path() const override { return options_.path; }
  uint64_t dropped() const override { return dropped_.load(std::memory_order_relaxed); }

 private:
  void write_loop() {
    std::vector<SpendRecord> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_writer_.wait(lock, [&] { return stopping_ || flush_requested_ || !queue_.empty(); });
      wake_writer_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms), [&] {
        return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch;
      });
      flush_requested_ = false;
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      batch.swap(queue_);
      lock.unlock();
      const bool ok = commit(batch);
      lock.lock();
      if (ok) committed_.fetch_add(batch.size(), std::memory_order_relaxed);
      else dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
      finished_ += batch.size();
      batch.clear();
      batch_done_.notify_all();
    }
  }

  // One transaction for the whole batch; on failure nothing of it is kept (and it is counted as dropped).
  bool commit(const std::vector<SpendRecord>& batch) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return report_failure("BEGIN");
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
        if (sqlite3_step(s) != SQLITE_DONE) {
          report_failure("INSERT");
          sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
          return false;
        }
      }
    } catch (const std::runtime_error& e) {
      log::error("spend log: batch lost", json::ObjectWriter().field("path", options_.path).field("error", e.what()));
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      report_failure("COMMIT");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
    return true;
  }

  bool report_failure(const char* step) {
    log::error("spend log: batch lost",
               json::ObjectWriter().field("path", options_.path).field("step", step).field("error", sqlite3_errmsg(db_)));
    return false;
  }

  sqlite3* db_;
  SpendLogOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_writer_, batch_done_;
  std::vector<SpendRecord> queue_;
  uint64_t accepted_ = 0;   // records queued so far
  uint64_t finished_ = 0;   // records whose batch was committed or lost
  bool flush_requested_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> committed_{0}, dropped_{0};
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
  sqlite3_busy_timeout(db, 5000);
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
