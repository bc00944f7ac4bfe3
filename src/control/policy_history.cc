#include "control/policy_history.h"

#include <algorithm>

#include "control/sqlite_statement.h"

namespace tollway::control {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS versions(
  counter INTEGER PRIMARY KEY,
  revision TEXT NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  parent TEXT NOT NULL,
  published_at TEXT NOT NULL,
  store TEXT NOT NULL,
  meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS version_files(
  counter INTEGER NOT NULL REFERENCES versions(counter),
  path TEXT NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY(counter, path));
CREATE TABLE IF NOT EXISTS version_changes(
  counter INTEGER NOT NULL REFERENCES versions(counter),
  path TEXT NOT NULL,
  change TEXT NOT NULL,
  keys TEXT NOT NULL,
  PRIMARY KEY(counter, path));
CREATE TABLE IF NOT EXISTS nacks(
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  node TEXT NOT NULL,
  version TEXT NOT NULL,
  reason TEXT NOT NULL);
)sql";

std::string keys_text(const std::vector<std::string>& keys) {
  std::string text;
  for (const auto& k : keys) text += (text.empty() ? "" : "\n") + k;
  return text;
}

std::vector<std::string> keys_of(const std::string& text) {
  std::vector<std::string> keys;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    keys.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return keys;
}

bool is_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

}  // namespace

std::unique_ptr<PolicyHistory> PolicyHistory::open(const std::string& path, bool read_only, std::string& error) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const std::string name = path.empty() ? ":memory:" : path;
  if (sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    error = "cannot open the history " + name + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<PolicyHistory> history(new PolicyHistory(db));
  if (!read_only &&
      !sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", error)) {
    error = "cannot set up the history " + name + ": " + error;
    return nullptr;
  }
  if (!read_only && !sqlite_exec(db, kSchema, error)) {
    error = "cannot create the history's tables in " + name + ": " + error;
    return nullptr;
  }
  if (read_only) {
    SqliteStatement probe(db, "SELECT counter FROM versions LIMIT 1");
    if (!probe.ok()) {
      error = name + " is not a tollway policy history: " + probe.error();
      return nullptr;
    }
  }
  return history;
}

PolicyHistory::~PolicyHistory() { sqlite3_close(db_); }

std::optional<std::vector<VersionRecord>> PolicyHistory::select(std::string_view where, std::string_view argument,
                                                                std::string& error) {
  const std::string sql = "SELECT counter, revision, content_hash, parent, published_at, store, meta FROM versions " +
                          std::string(where) + " ORDER BY counter DESC";
  SqliteStatement versions(db_, sql.c_str());
  if (!versions.ok()) {
    error = "cannot read the history: " + versions.error();
    return std::nullopt;
  }
  if (!argument.empty()) versions.bind(1, argument);
  std::vector<VersionRecord> records;
  int rc;
  while ((rc = versions.step()) == SQLITE_ROW) {
    VersionRecord r;
    r.counter = versions.integer(0);
    r.revision = versions.text(1);
    r.content_hash = versions.text(2);
    r.parent = versions.text(3);
    r.published_at = versions.text(4);
    r.store = versions.text(5);
    std::string meta_error;
    if (auto meta = PublishMeta::from_json(versions.text(6), meta_error)) r.meta = std::move(*meta);
    records.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) {
    error = "cannot read the history: " + versions.error();
    return std::nullopt;
  }
  for (auto& r : records) {
    SqliteStatement one(db_, "SELECT path, change, keys FROM version_changes WHERE counter = ?1 ORDER BY path");
    one.bind(1, r.counter);
    while ((rc = one.step()) == SQLITE_ROW) r.changes.push_back({one.text(0), one.text(1), keys_of(one.text(2))});
    if (rc != SQLITE_DONE) {
      error = "cannot read the history: " + one.error();
      return std::nullopt;
    }
  }
  return records;
}

std::optional<VersionRecord> PolicyHistory::latest(std::string& error) {
  auto records = select("WHERE counter = (SELECT MAX(counter) FROM versions)", "", error);
  if (!records || records->empty()) return std::nullopt;
  return std::move(records->front());
}

std::optional<std::vector<VersionRecord>> PolicyHistory::list(std::string& error) { return select("", "", error); }

std::optional<VersionRecord> PolicyHistory::find(std::string_view name, std::string& error) {
  std::optional<std::vector<VersionRecord>> found;
  const bool counter = !name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos;
  if (counter) {
    found = select("WHERE counter = CAST(?1 AS INTEGER)", name, error);
  } else if (name.find('-') != std::string_view::npos) {
    found = select("WHERE revision = ?1", name, error);
  } else if (name.size() >= 6 && is_hex(name)) {
    found = select("WHERE substr(content_hash, 1, " + std::to_string(name.size()) + ") = ?1", name, error);
    if (found) {
      std::vector<std::string> hashes;
      for (const auto& r : *found)
        if (std::find(hashes.begin(), hashes.end(), r.content_hash) == hashes.end()) hashes.push_back(r.content_hash);
      if (hashes.size() > 1) {
        error = "\"" + std::string(name) + "\" names more than one policy content: give more digits or the revision";
        return std::nullopt;
      }
    }
  } else {
    error = "\"" + std::string(name) +
            "\" is not a version: give a revision (COUNTER-HASH, as `tollway control history` lists), a counter, or "
            "6+ hex digits of a content hash";
    return std::nullopt;
  }
  if (!found) return std::nullopt;
  if (found->empty()) {
    error = "no version \"" + std::string(name) + "\" in the history";
    return std::nullopt;
  }
  return std::move(found->front());
}

std::optional<std::map<std::string, std::string>> PolicyHistory::files_of(int64_t counter, std::string& error) {
  SqliteStatement files(db_, "SELECT path, bytes FROM version_files WHERE counter = ?1");
  files.bind(1, counter);
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = files.step()) == SQLITE_ROW) out.emplace(files.text(0), files.text(1));
  if (rc != SQLITE_DONE) {
    error = "cannot read the history: " + files.error();
    return std::nullopt;
  }
  return out;
}

std::optional<VersionRecord> PolicyHistory::next_version(const PolicyFiles& files, const std::string& store,
                                                         const PublishMeta& meta, std::string& error) {
  const std::string hash = files.content_hash();
  auto previous = latest(error);
  if (!previous && !error.empty()) return std::nullopt;
  if (previous && previous->content_hash == hash) return previous;
  VersionRecord r;
  r.counter = previous ? previous->counter + 1 : 1;
  r.revision = std::to_string(r.counter) + "-" + hash.substr(0, 12);
  r.content_hash = hash;
  r.parent = previous ? previous->revision : "";
  r.published_at = utc_now_text();
  r.store = store;
  r.meta = meta;
  return r;
}

std::optional<VersionRecord> PolicyHistory::record(const PolicyFiles& files, const std::string& store,
                                                   const PublishMeta& meta, std::string& error) {
  auto next = next_version(files, store, meta, error);
  if (!next) return std::nullopt;
  if (previous_is(*next, error)) return next;
  if (!error.empty() || !insert(*next, files.files, error)) return std::nullopt;
  return next;
}

bool PolicyHistory::previous_is(const VersionRecord& version, std::string& error) {
  error.clear();
  const std::string counter_text = std::to_string(version.counter);
  auto same = select("WHERE counter = CAST(?1 AS INTEGER)", counter_text, error);
  if (!same || same->empty()) return false;
  if (same->front().revision == version.revision) return true;
  error = "the history holds " + same->front().revision + " under counter " + counter_text + ", not " + version.revision;
  return false;
}

bool PolicyHistory::import(const VersionRecord& version, const std::map<std::string, std::string>& files,
                           std::string& error) {
  if (previous_is(version, error)) return true;
  if (!error.empty()) return false;
  VersionRecord r = version;
  return insert(r, files, error);
}

bool PolicyHistory::insert(VersionRecord& r, const std::map<std::string, std::string>& files, std::string& error) {
  std::map<std::string, std::string> before;
  if (!r.parent.empty()) {
    auto parent = select("WHERE revision = ?1", r.parent, error);
    if (!parent) return false;
    if (!parent->empty()) {
      auto old = files_of(parent->front().counter, error);
      if (!old) return false;
      before = std::move(*old);
    }
  }
  r.changes = policy_changes(before, files);
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) {
    error = "cannot write the history: " + error;
    return false;
  }
  const auto fail = [&](const SqliteStatement& s) {
    error = "cannot write the history: " + s.error();
    std::string ignored;
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  };
  {
    SqliteStatement insert(db_,
                           "INSERT INTO versions(counter, revision, content_hash, parent, published_at, store, meta) "
                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, r.counter).bind(2, r.revision).bind(3, r.content_hash).bind(4, r.parent);
    insert.bind(5, r.published_at).bind(6, r.store).bind(7, r.meta.to_json());
    if (insert.step() != SQLITE_DONE) return fail(insert);
  }
  for (const auto& [path, bytes] : files) {
    SqliteStatement insert(db_, "INSERT INTO version_files(counter, path, bytes) VALUES(?1, ?2, ?3)");
    insert.bind(1, r.counter).bind(2, path).bind_blob(3, bytes);
    if (insert.step() != SQLITE_DONE) return fail(insert);
  }
  for (const auto& c : r.changes) {
    SqliteStatement insert(db_, "INSERT INTO version_changes(counter, path, change, keys) VALUES(?1, ?2, ?3, ?4)");
    insert.bind(1, r.counter).bind(2, c.path).bind(3, c.change).bind(4, keys_text(c.keys));
    if (insert.step() != SQLITE_DONE) return fail(insert);
  }
  if (!sqlite_exec(db_, "COMMIT", error)) {
    error = "cannot write the history: " + error;
    std::string ignored;
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  }
  return true;
}

bool PolicyHistory::record_nack(const NackRecord& nack, std::string& error) {
  SqliteStatement insert(db_, "INSERT INTO nacks(at, node, version, reason) VALUES(?1, ?2, ?3, ?4)");
  insert.bind(1, nack.at).bind(2, nack.node).bind(3, nack.version).bind(4, nack.reason);
  if (!insert.ok() || insert.step() != SQLITE_DONE) {
    error = "cannot record the NACK: " + insert.error();
    return false;
  }
  SqliteStatement trim(db_, "DELETE FROM nacks WHERE id <= (SELECT MAX(id) FROM nacks) - ?1");
  trim.bind(1, kNackHistoryLimit);
  if (!trim.ok() || trim.step() != SQLITE_DONE) {
    error = "cannot trim the NACK history: " + trim.error();
    return false;
  }
  return true;
}

std::optional<PolicyHistory::Nacks> PolicyHistory::nacks(int64_t limit, std::string& error) {
  Nacks out;
  SqliteStatement counts(db_, "SELECT COUNT(*), COUNT(DISTINCT node) FROM nacks");
  if (!counts.ok() || counts.step() != SQLITE_ROW) {
    error = "cannot read the NACK history: " + counts.error();
    return std::nullopt;
  }
  out.total = counts.integer(0);
  out.nodes = counts.integer(1);
  SqliteStatement newest(db_, "SELECT at, node, version, reason FROM nacks ORDER BY id DESC LIMIT ?1");
  newest.bind(1, limit);
  int rc;
  while ((rc = newest.step()) == SQLITE_ROW)
    out.newest.push_back({newest.text(0), newest.text(1), newest.text(2), newest.text(3)});
  if (rc != SQLITE_DONE) {
    error = "cannot read the NACK history: " + newest.error();
    return std::nullopt;
  }
  return out;
}

}  // namespace tollway::control
