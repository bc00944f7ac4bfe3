#include "control/rollout/rollout_log.h"

#include "control/sqlite_statement.h"
#include "core/json.h"

namespace tollway::control::rollout {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rollouts(
  revision TEXT PRIMARY KEY,
  stable TEXT NOT NULL,
  canary_nodes TEXT NOT NULL,
  canary TEXT NOT NULL,
  hold_ms INTEGER NOT NULL,
  min_requests INTEGER NOT NULL,
  max_error_rate_ppm INTEGER NOT NULL,
  max_deny_rate_ppm INTEGER NOT NULL,
  phase TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL,
  reason TEXT NOT NULL);
)sql";

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::unique_ptr<RolloutLog> RolloutLog::open(const std::string& path, bool read_only, std::string& error) {
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const std::string name = path.empty() ? ":memory:" : path;
  if (sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    error = "cannot open the rollout log " + name + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  // Durable before the fleet changes, as the history's own tables are (WAL, synchronous=FULL).
  if (!read_only && (!sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error) ||
                     !sqlite_exec(db, kSchema, error))) {
    error = "cannot create the rollouts table in " + name + ": " + error;
    sqlite3_close(db);
    return nullptr;
  }
  bool has_table = !read_only;
  if (read_only) {
    SqliteStatement probe(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollouts'");
    has_table = probe.ok() && probe.step() == SQLITE_ROW;
  }
  return std::unique_ptr<RolloutLog>(new RolloutLog(db, has_table));
}

RolloutLog::~RolloutLog() { sqlite3_close(db_); }

bool RolloutLog::start(const RolloutRecord& r, std::string& error) {
  SqliteStatement insert(db_,
                         "INSERT OR REPLACE INTO rollouts(revision, stable, canary_nodes, canary, hold_ms, min_requests, "
                         "max_error_rate_ppm, max_deny_rate_ppm, phase, started_ms, ended_ms, reason) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!insert.ok()) {
    error = "cannot record the rollout: " + insert.error();
    return false;
  }
  insert.bind(1, r.revision).bind(2, r.stable).bind(3, joined(r.canary_nodes)).bind(4, r.spec.canary.text());
  insert.bind(5, static_cast<int64_t>(r.spec.hold.count())).bind(6, static_cast<int64_t>(r.spec.min_requests));
  // Thresholds kept in millionths: exact through the round trip.
  insert.bind(7, static_cast<int64_t>(r.spec.max_error_rate_increase * 1e6 + 0.5));
  insert.bind(8, static_cast<int64_t>(r.spec.max_deny_rate_increase * 1e6 + 0.5));
  insert.bind(9, phase_name(r.phase)).bind(10, r.started_ms).bind(11, r.ended_ms).bind(12, r.reason);
  if (insert.step() != SQLITE_DONE) {
    error = "cannot record the rollout: " + insert.error();
    return false;
  }
  return true;
}

bool RolloutLog::finish(const std::string& revision, Phase phase, int64_t ended_ms, const std::string& reason,
                        std::string& error) {
  SqliteStatement update(db_, "UPDATE rollouts SET phase = ?2, ended_ms = ?3, reason = ?4 WHERE revision = ?1");
  if (!update.ok()) {
    error = "cannot record the rollout's end: " + update.error();
    return false;
  }
  update.bind(1, revision).bind(2, phase_name(phase)).bind(3, ended_ms).bind(4, reason);
  if (update.step() != SQLITE_DONE) {
    error = "cannot record the rollout's end: " + update.error();
    return false;
  }
  return true;
}

std::optional<std::map<std::string, RolloutRecord>> RolloutLog::select(const std::string& revision,
                                                                        std::string& error) {
  std::map<std::string, RolloutRecord> out;
  if (!has_table_) return out;
  const std::string sql =
      std::string("SELECT revision, stable, canary_nodes, canary, hold_ms, min_requests, max_error_rate_ppm, "
                  "max_deny_rate_ppm, phase, started_ms, ended_ms, reason FROM rollouts") +
      (revision.empty() ? "" : " WHERE revision = ?1");
  SqliteStatement rows(db_, sql.c_str());
  if (!rows.ok()) {
    error = "cannot read the rollouts: " + rows.error();
    return std::nullopt;
  }
  if (!revision.empty()) rows.bind(1, revision);
  int rc;
  while ((rc = rows.step()) == SQLITE_ROW) {
    RolloutRecord r;
    r.revision = rows.text(0);
    r.stable = rows.text(1);
    r.canary_nodes = split(rows.text(2));
    std::string ignored;
    if (const auto canary = parse_canary_option(rows.text(3), ignored)) r.spec.canary = *canary;
    r.spec.hold = std::chrono::milliseconds(rows.integer(4));
    r.spec.min_requests = static_cast<uint64_t>(rows.integer(5));
    r.spec.max_error_rate_increase = static_cast<double>(rows.integer(6)) / 1e6;
    r.spec.max_deny_rate_increase = static_cast<double>(rows.integer(7)) / 1e6;
    r.phase = phase_of(rows.text(8)).value_or(Phase::Superseded);
    r.started_ms = rows.integer(9);
    r.ended_ms = rows.integer(10);
    r.reason = rows.text(11);
    out.emplace(r.revision, std::move(r));
  }
  if (rc != SQLITE_DONE) {
    error = "cannot read the rollouts: " + rows.error();
    return std::nullopt;
  }
  return out;
}

std::optional<RolloutRecord> RolloutLog::find(const std::string& revision, std::string& error) {
  auto rows = select(revision, error);
  if (!rows || rows->empty()) return std::nullopt;
  return std::move(rows->begin()->second);
}

std::optional<std::map<std::string, RolloutRecord>> RolloutLog::all(std::string& error) { return select("", error); }

std::string history_json(const RolloutRecord& r) {
  std::string nodes = "[";
  for (const auto& n : r.canary_nodes) nodes += (nodes.size() > 1 ? "," : "") + json::quoted(n);
  json::ObjectWriter w;
  w.field("revision", r.revision)
      .field("phase", phase_name(r.phase))
      .field("canary", r.spec.canary.text())
      .raw_field("canary_nodes", nodes + "]")
      .field("stable", r.stable)
      .field("started_at", utc_text_ms(r.started_ms));
  if (r.ended_ms > 0) w.field("ended_at", utc_text_ms(r.ended_ms));
  else w.null_field("ended_at");
  w.field("reason", r.reason);
  return std::move(w).finish();
}

}  // namespace tollway::control::rollout
