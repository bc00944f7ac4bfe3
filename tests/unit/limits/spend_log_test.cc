// SpendLog on a real SQLite file: append/flush/replay, order and the since filter, the bounded queue, reopen,
// a writer process SIGKILLed right after flush() returned loses none of what it flushed, and a commit that
// fails (the database locked by another connection) keeps its batch and retries it until it succeeds.
#include "limits/spend_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace tollway::limits {
namespace {

class SpendLogTest : public ::testing::Test {
 protected:
  SpendLogTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("tollway-spend-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.path = (dir_ / "spend.db").string();
  }
  ~SpendLogTest() override { std::filesystem::remove_all(dir_); }

  static SpendRecord record(int64_t at_ms, std::string id, int64_t tokens) {
    SpendRecord r;
    r.at_ms = at_ms;
    r.request_id = std::move(id);
    r.tenant = "acme";
    r.agent_group = "support";
    r.agent = "triage";
    r.key_id = "vk_1";
    r.model = "gpt-4o";
    r.session = "s1";
    r.provider = "openai";
    r.input_tokens = tokens;
    r.output_tokens = tokens / 2;
    r.cost_micro_usd = tokens * 3;
    return r;
  }

  std::vector<SpendRecord> replay_all(SpendLog& log, int64_t since = 0) {
    std::vector<SpendRecord> out;
    log.replay(since, [&](const SpendRecord& r) { out.push_back(r); });
    return out;
  }

  std::filesystem::path dir_;
  SpendLogOptions options_;
};

TEST_F(SpendLogTest, AppendFlushReplayOldestFirstSince) {
  auto log = SpendLog::open(options_);
  log->append(record(3000, "c", 30));
  log->append(record(1000, "a", 10));
  auto est = record(2000, "b", 20);
  est.estimated = true;
  est.fanout_root = "root-1";
  log->append(est);
  log->flush();
  EXPECT_EQ(log->appended(), 3u);
  EXPECT_EQ(log->dropped(), 0u);
  auto all = replay_all(*log);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].request_id, "a");
  EXPECT_EQ(all[1].request_id, "b");
  EXPECT_EQ(all[2].request_id, "c");
  EXPECT_TRUE(all[1].estimated);
  EXPECT_EQ(all[1].fanout_root, "root-1");
  EXPECT_EQ(all[0].tenant, "acme");
  EXPECT_EQ(all[0].input_tokens, 10);
  EXPECT_EQ(all[0].output_tokens, 5);
  EXPECT_EQ(all[0].cost_micro_usd, 30);
  EXPECT_EQ(all[0].requests, 1);
  auto recent = replay_all(*log, 2000);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].request_id, "b");
}

TEST_F(SpendLogTest, KeepsTheServedModelBesideTheReservedOneAndUpgradesAnOldFile) {
  {  // a spend log written before served_model existed
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE spend (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, request_id TEXT NOT NULL,"
                           " tenant TEXT NOT NULL, agent_group TEXT NOT NULL, agent TEXT NOT NULL, key_id TEXT NOT NULL,"
                           " model TEXT NOT NULL, session TEXT NOT NULL, provider TEXT NOT NULL, fanout_root TEXT NOT NULL,"
                           " requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
                           " cost_micro_usd INTEGER NOT NULL, estimated INTEGER NOT NULL);"
                           "INSERT INTO spend VALUES (1, 500, 'old', 't', '', '', '', 'gpt-4o', '', 'openai', '', 1, 1, 1, 1, 0);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto log = SpendLog::open(options_);
  auto fallback = record(1000, "fb", 10);
  fallback.model = "gpt-4o-mini";
  fallback.served_model = "claude-3-5-haiku";
  log->append(fallback);
  log->flush();
  auto all = replay_all(*log);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].request_id, "old");
  EXPECT_EQ(all[0].served_model, "");
  EXPECT_EQ(all[1].model, "gpt-4o-mini");
  EXPECT_EQ(all[1].served_model, "claude-3-5-haiku");
}

TEST_F(SpendLogTest, BatchesCommitWithoutFlushAndSurviveReopen) {
  options_.flush_interval_ms = 20;
  {
    auto log = SpendLog::open(options_);
    for (int i = 0; i < 1000; ++i) log->append(record(i, "r" + std::to_string(i), i));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (log->appended() < 1000 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(log->appended(), 1000u);
    log->append(record(5000, "last", 1));  // committed by the destructor
  }
  auto log = SpendLog::open(options_);
  auto all = replay_all(*log);
  ASSERT_EQ(all.size(), 1001u);
  EXPECT_EQ(all.front().request_id, "r0");
  EXPECT_EQ(all.back().request_id, "last");
}

TEST_F(SpendLogTest, AFullQueueDropsAndCountsInsteadOfBlocking) {
  options_.max_queue = 10;
  options_.max_batch = 1000;         // never wakes the writer early
  options_.flush_interval_ms = 60'000;
  auto log = SpendLog::open(options_);
  for (int i = 0; i < 25; ++i) log->append(record(i, "r", 1));
  EXPECT_EQ(log->dropped(), 15u);
  log->flush();
  EXPECT_EQ(log->appended(), 10u);
  EXPECT_EQ(replay_all(*log).size(), 10u);
}

// Another process's write transaction on the same file (what `BEGIN EXCLUSIVE` in a second sqlite3 does):
// every commit of the spend log fails with SQLITE_BUSY after its busy timeout while it is held.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }
  ~WriteLock() { release(); }

 private:
  sqlite3* db_ = nullptr;
};

// Waits until a flush commits everything (the writer retries on its own; flush only observes).
bool flushed_within(SpendLog& log, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline)
    if (log.flush()) return true;
  return false;
}

TEST_F(SpendLogTest, AFailedCommitKeepsTheBatchAndRetriesItUntilItSucceeds) {
  options_.flush_interval_ms = 10;
  options_.max_retry_interval_ms = 40;
  options_.busy_timeout_ms = 20;
  auto log = SpendLog::open(options_);
  log->append(record(1, "before", 1));
  ASSERT_TRUE(log->flush());
  WriteLock lock(options_.path);
  for (int i = 0; i < 3; ++i) log->append(record(10 + i, "held-" + std::to_string(i), 1));
  EXPECT_FALSE(log->flush()) << "a commit cannot succeed while the database is locked";
  EXPECT_TRUE(log->failing());
  EXPECT_GE(log->commit_failures(), 1u);
  EXPECT_EQ(log->waiting(), 3u);
  EXPECT_EQ(log->appended(), 1u);
  EXPECT_EQ(log->dropped(), 0u) << "a failed commit loses nothing";
  // Records appended during the failure join the kept batch, in order.
  log->append(record(20, "during", 1));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (log->commit_failures() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GE(log->commit_failures(), 3u) << "the writer retries by itself, without a flush";
  EXPECT_EQ(log->waiting(), 4u);
  EXPECT_EQ(log->dropped(), 0u);
  lock.release();
  ASSERT_TRUE(flushed_within(*log, std::chrono::seconds(5)));
  EXPECT_FALSE(log->failing());
  EXPECT_EQ(log->appended(), 5u);
  EXPECT_EQ(log->waiting(), 0u);
  EXPECT_EQ(log->dropped(), 0u);
  std::vector<std::string> ids;
  for (const auto& r : replay_all(*log)) ids.push_back(r.request_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"before", "held-0", "held-1", "held-2", "during"}));
}

TEST_F(SpendLogTest, WhileCommitsFailTheQueueBoundKeepsTheOldestAndCountsTheRefused) {
  options_.flush_interval_ms = 10;
  options_.max_retry_interval_ms = 20;
  options_.busy_timeout_ms = 5;
  options_.max_queue = 5;
  auto log = SpendLog::open(options_);
  WriteLock lock(options_.path);
  for (int i = 0; i < 3; ++i) log->append(record(i, "r" + std::to_string(i), 1));
  EXPECT_FALSE(log->flush());  // the writer now holds r0..r2 for a retry
  for (int i = 3; i < 8; ++i) log->append(record(i, "r" + std::to_string(i), 1));
  EXPECT_EQ(log->waiting(), 5u);
  EXPECT_EQ(log->dropped(), 3u) << "r5..r7 found the bound reached";
  lock.release();
  ASSERT_TRUE(flushed_within(*log, std::chrono::seconds(5)));
  std::vector<std::string> ids;
  for (const auto& r : replay_all(*log)) ids.push_back(r.request_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
}

TEST_F(SpendLogTest, ShutdownWhileCommitsFailEndsAfterOneLastAttempt) {
  options_.flush_interval_ms = 10;
  options_.busy_timeout_ms = 20;
  {
    auto log = SpendLog::open(options_);
    WriteLock held(options_.path);
    log->append(record(1, "lost", 1));
    EXPECT_FALSE(log->flush());
    const auto start = std::chrono::steady_clock::now();
    log.reset();  // one more attempt, then the record is counted as lost and logged; never hangs
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  auto reopened = SpendLog::open(options_);
  EXPECT_TRUE(replay_all(*reopened).empty());
}

TEST_F(SpendLogTest, BadPathIsAPreciseError) {
  options_.path = (dir_ / "missing-dir" / "spend.db").string();
  try {
    SpendLog::open(options_);
    FAIL() << "open succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing-dir/spend.db"), std::string::npos) << e.what();
  }
}

// A child appends and flushes, tells the parent how many it flushed, keeps appending, and is SIGKILLed.
void crash_test(SpendLogOptions options, const char* label) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    auto log = SpendLog::open(options);
    int64_t n = 0;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 200; ++i, ++n) {
        SpendRecord r;
        r.at_ms = n;
        r.request_id = "req-" + std::to_string(n);
        r.input_tokens = n;
        log->append(std::move(r));
      }
      log->flush();
      if (write(pipe_fds[1], &n, sizeof n) != sizeof n) _exit(2);
    }
    for (;; ++n) {  // more, unflushed, until killed
      SpendRecord r;
      r.at_ms = n;
      r.request_id = "req-" + std::to_string(n);
      log->append(std::move(r));
      if (n % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  close(pipe_fds[1]);
  int64_t flushed = 0, value = 0;
  while (read(pipe_fds[0], &value, sizeof value) == sizeof value) {
    flushed = value;
    if (flushed == 1000) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << label;
  ASSERT_EQ(flushed, 1000) << label;

  auto log = SpendLog::open(options);
  std::vector<int64_t> seen;
  log->replay(0, [&](const SpendRecord& r) { seen.push_back(r.at_ms); });
  ASSERT_GE(seen.size(), 1000u) << label;
  for (int64_t i = 0; i < static_cast<int64_t>(seen.size()); ++i) ASSERT_EQ(seen[i], i) << label;  // no gaps
}

TEST_F(SpendLogTest, SigkillAfterFlushLosesNothingFlushedFull) {
  options_.fsync_each_batch = true;
  crash_test(options_, "synchronous=FULL");
}

TEST_F(SpendLogTest, SigkillAfterFlushLosesNothingFlushedNormal) {
  options_.fsync_each_batch = false;
  crash_test(options_, "synchronous=NORMAL");
}

}  // namespace
}  // namespace tollway::limits
