// RolloutLog: every staged rollout the control plane started, kept in the history's SQLite file (table
// `rollouts` of STATE_DIR/history.db, its own connection): the version, the stable version beside it, the canary
// nodes, the spec, the phase (canary, promoted, rolled_back, superseded), when it started and ended, and why. A
// rollout is written before its canary is published and its end before the fleet is changed, so a restarted
// control plane resumes a canary (its counts begin again) and never offers a rolled-back version again. It never
// decides anything and never touches the history's own tables.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "control/rollout/rollout.h"

struct sqlite3;

namespace tollway::control::rollout {

class RolloutLog {
 public:
  // `path` "" = in memory. read_only opens an existing file; a history without the table reads as no rollouts.
  static std::unique_ptr<RolloutLog> open(const std::string& path, bool read_only, std::string& error);
  ~RolloutLog();
  RolloutLog(const RolloutLog&) = delete;
  RolloutLog& operator=(const RolloutLog&) = delete;

  bool start(const RolloutRecord& record, std::string& error);
  // Records the end of the rollout of `revision`.
  bool finish(const std::string& revision, Phase phase, int64_t ended_ms, const std::string& reason,
              std::string& error);
  // The rollout of `revision`, nullopt when there is none (or with `error` on a read error).
  std::optional<RolloutRecord> find(const std::string& revision, std::string& error);
  // Every rollout by revision.
  std::optional<std::map<std::string, RolloutRecord>> all(std::string& error);

 private:
  explicit RolloutLog(sqlite3* db, bool has_table) : db_(db), has_table_(has_table) {}
  std::optional<std::map<std::string, RolloutRecord>> select(const std::string& revision, std::string& error);

  sqlite3* db_;
  bool has_table_;
};

// {revision, phase, canary, canary_nodes, stable, started_at, ended_at, reason} for a version's entry in the history.
std::string history_json(const RolloutRecord& record);

}  // namespace tollway::control::rollout
