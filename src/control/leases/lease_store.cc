#include "control/leases/lease_store.h"

#include "control/sqlite_statement.h"

namespace tollway::control::leases {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS budget_keys(
  key TEXT PRIMARY KEY,
  budget_limit INTEGER NOT NULL,
  ends_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS holdings(
  key TEXT NOT NULL,
  holder TEXT NOT NULL,
  used INTEGER NOT NULL,
  granted INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  closed INTEGER NOT NULL,
  PRIMARY KEY(key, holder));
CREATE TABLE IF NOT EXISTS report_seq(
  node TEXT NOT NULL,
  incarnation TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(node, incarnation));
CREATE TABLE IF NOT EXISTS store_revision(
  id INTEGER PRIMARY KEY CHECK(id = 0),
  revision INTEGER NOT NULL);
)sql";

}  // namespace

std::unique_ptr<SqliteLeaseStore> SqliteLeaseStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  const std::string name = path.empty() ? ":memory:" : path;
  if (sqlite3_open_v2(name.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "cannot open the lease store " + name + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteLeaseStore> store(new SqliteLeaseStore(db, path));
  if (!sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error) ||
      !sqlite_exec(db, kSchema, error)) {
    error = "cannot set up the lease store " + name + ": " + error;
    return nullptr;
  }
  return store;
}

SqliteLeaseStore::~SqliteLeaseStore() { sqlite3_close(db_); }

std::optional<int64_t> SqliteLeaseStore::stored_revision(std::string& error) {
  SqliteStatement q(db_, "SELECT revision FROM store_revision WHERE id = 0");
  const int rc = q.step();
  if (rc == SQLITE_ROW) return q.integer(0);
  if (rc == SQLITE_DONE) return 0;
  error = q.error();
  return std::nullopt;
}

bool SqliteLeaseStore::write_revision(int64_t revision, std::string& error) {
  SqliteStatement w(db_, "INSERT INTO store_revision(id, revision) VALUES(0, ?1) "
                         "ON CONFLICT(id) DO UPDATE SET revision = ?1");
  w.bind(1, revision);
  if (w.step() == SQLITE_DONE) return true;
  error = w.error();
  return false;
}

boost::asio::awaitable<bool> SqliteLeaseStore::load(LeaseBook& book, std::string& error) {
  // The revision first: a write between it and the rows makes the book newer than its revision, so its first save
  // is refused as stale and it is loaded again (never the other way round).
  const auto revision = stored_revision(error);
  if (!revision) {
    error = "cannot read the lease store: " + error;
    co_return false;
  }
  SqliteStatement keys(db_, "SELECT key, budget_limit, ends_ms FROM budget_keys");
  int rc;
  while ((rc = keys.step()) == SQLITE_ROW) {
    BudgetKeyState state;
    state.limit = keys.integer(1);
    state.ends_ms = keys.integer(2);
    SqliteStatement holdings(db_, "SELECT holder, used, granted, expires_ms, closed FROM holdings WHERE key = ?1");
    holdings.bind(1, keys.text(0));
    int hrc;
    while ((hrc = holdings.step()) == SQLITE_ROW)
      state.holders[holdings.text(0)] =
          Holding{holdings.integer(1), holdings.integer(2), holdings.integer(3), holdings.integer(4) != 0};
    if (hrc != SQLITE_DONE) break;
    book.restore(keys.text(0), std::move(state));
  }
  if (rc != SQLITE_DONE) {
    error = "cannot read the lease store: " + keys.error();
    co_return false;
  }
  revision_ = *revision;
  co_return true;
}

boost::asio::awaitable<std::optional<int64_t>> SqliteLeaseStore::last_seq(const std::string& node,
                                                                        const std::string& incarnation,
                                                                        std::string& error) {
  SqliteStatement q(db_, "SELECT seq FROM report_seq WHERE node = ?1 AND incarnation = ?2");
  q.bind(1, node).bind(2, incarnation);
  const int rc = q.step();
  if (rc == SQLITE_ROW) co_return q.integer(0);
  if (rc != SQLITE_DONE) error = "cannot read the lease store: " + q.error();
  co_return std::nullopt;
}

boost::asio::awaitable<SaveResult> SqliteLeaseStore::save(const LeaseBook& book,
                                                          const std::vector<std::string>& keys,
                                                          const std::string& node, const std::string& incarnation,
                                                          int64_t seq, std::string& error) {
  co_return save_now(book, keys, node, incarnation, seq, error);
}

SaveResult SqliteLeaseStore::save_now(const LeaseBook& book, const std::vector<std::string>& keys,
                                      const std::string& node, const std::string& incarnation, int64_t seq,
                                      std::string& error) {
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) {
    error = "cannot write the lease store: " + error;
    return SaveResult::Failed;
  }
  auto rollback = [&] {
    std::string ignored;
    sqlite_exec(db_, "ROLLBACK", ignored);
  };
  auto fail = [&](const SqliteStatement& s) {
    error = "cannot write the lease store: " + s.error();
    rollback();
    return SaveResult::Failed;
  };
  const auto revision = stored_revision(error);
  if (!revision) {
    error = "cannot write the lease store: " + error;
    rollback();
    return SaveResult::Failed;
  }
  if (*revision != revision_) {  // another process wrote leases.db since this one read it
    rollback();
    return SaveResult::Stale;
  }
  for (const auto& key : keys) {
    const auto found = book.keys().find(key);
    if (found == book.keys().end()) continue;
    SqliteStatement k(db_, "INSERT INTO budget_keys(key, budget_limit, ends_ms) VALUES(?1, ?2, ?3) "
                           "ON CONFLICT(key) DO UPDATE SET budget_limit = ?2, ends_ms = ?3");
    k.bind(1, key).bind(2, found->second.limit).bind(3, found->second.ends_ms);
    if (k.step() != SQLITE_DONE) return fail(k);
    for (const auto& [holder, h] : found->second.holders) {
      SqliteStatement w(db_, "INSERT INTO holdings(key, holder, used, granted, expires_ms, closed) "
                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key, holder) DO UPDATE SET "
                             "used = ?3, granted = ?4, expires_ms = ?5, closed = ?6");
      w.bind(1, key).bind(2, holder).bind(3, h.used).bind(4, h.granted).bind(5, h.expires_ms).bind(6, h.closed ? 1 : 0);
      if (w.step() != SQLITE_DONE) return fail(w);
    }
  }
  SqliteStatement s(db_, "INSERT INTO report_seq(node, incarnation, seq) VALUES(?1, ?2, ?3) "
                         "ON CONFLICT(node, incarnation) DO UPDATE SET seq = ?3");
  s.bind(1, node).bind(2, incarnation).bind(3, seq);
  if (s.step() != SQLITE_DONE) return fail(s);
  if (!write_revision(*revision + 1, error) || !sqlite_exec(db_, "COMMIT", error)) {
    error = "cannot write the lease store: " + error;
    rollback();
    return SaveResult::Failed;
  }
  revision_ = *revision + 1;
  return SaveResult::Saved;
}

boost::asio::awaitable<bool> SqliteLeaseStore::forget_keys_not_in(const LeaseBook& book, std::string& error) {
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) {
    error = "cannot write the lease store: " + error;
    co_return false;
  }
  auto fail = [&](std::string why) {
    error = "cannot write the lease store: " + std::move(why);
    std::string ignored;
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  };
  const auto revision = stored_revision(error);
  if (!revision) co_return fail(error);
  if (*revision != revision_) {  // written by another process since: its book decides what to forget
    std::string ignored;
    sqlite_exec(db_, "ROLLBACK", ignored);
    co_return true;
  }
  std::vector<std::string> gone;
  {
    SqliteStatement keys(db_, "SELECT key FROM budget_keys");
    while (keys.step() == SQLITE_ROW)
      if (!book.keys().contains(keys.text(0))) gone.push_back(keys.text(0));
  }
  for (const auto& key : gone) {
    SqliteStatement a(db_, "DELETE FROM holdings WHERE key = ?1");
    a.bind(1, key);
    SqliteStatement b(db_, "DELETE FROM budget_keys WHERE key = ?1");
    b.bind(1, key);
    if (a.step() != SQLITE_DONE) co_return fail(a.error());
    if (b.step() != SQLITE_DONE) co_return fail(b.error());
  }
  if (!write_revision(*revision + 1, error) || !sqlite_exec(db_, "COMMIT", error)) co_return fail(error);
  revision_ = *revision + 1;
  co_return true;
}

}  // namespace tollway::control::leases
