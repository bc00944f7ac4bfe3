// PolicyHistory: every policy version the control plane published, kept in SQLite (STATE_DIR/history.db, or in
// memory without a state dir) — its revision (COUNTER-HASH: the counter of published versions and the first 12
// hex digits of the content hash), its parent, when, from which store, who published it (PublishMeta), what
// changed per file against its parent, and all of its files, so that any two versions can be diffed and any
// version published again. A version is written in one SQLite transaction before it is published: nothing
// accepted is lost on a crash. It never decides what is published and never changes a recorded version.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/policy_changes.h"
#include "control/policy_files.h"
#include "control/publish_meta.h"

struct sqlite3;

namespace tollway::control {

struct VersionRecord {
  int64_t counter = 0;
  std::string revision;      // COUNTER-HASH12
  std::string content_hash;  // full hex
  std::string parent;        // the revision before it, "" for the first
  std::string published_at;  // when the control plane published it (RFC 3339 UTC)
  std::string store;         // "directory DIR" or "etcd PREFIX"
  PublishMeta meta;          // author, commit, commit author, note (as the publisher wrote them)
  std::vector<FileChange> changes;
};

class PolicyHistory {
 public:
  // `path` "" = an in-memory database. read_only opens an existing file only.
  static std::unique_ptr<PolicyHistory> open(const std::string& path, bool read_only, std::string& error);
  ~PolicyHistory();
  PolicyHistory(const PolicyHistory&) = delete;
  PolicyHistory& operator=(const PolicyHistory&) = delete;

  // The newest version, nullopt when there is none (or on a read error, with `error` set).
  std::optional<VersionRecord> latest(std::string& error);
  // The version `files` are published as: the newest one when its content hash is the same, otherwise a new
  // version (the next counter) recorded with its files, its changes against the newest and `meta`.
  std::optional<VersionRecord> record(const PolicyFiles& files, const std::string& store, const PublishMeta& meta,
                                      std::string& error);
  // Every version, newest first.
  std::optional<std::vector<VersionRecord>> list(std::string& error);
  // The version `name` names: its revision, its counter, or a prefix (6+ hex digits) of its content hash that
  // names one version's content (the newest version with that content).
  std::optional<VersionRecord> find(std::string_view name, std::string& error);
  std::optional<std::map<std::string, std::string>> files_of(int64_t counter, std::string& error);

 private:
  explicit PolicyHistory(sqlite3* db) : db_(db) {}
  std::optional<std::vector<VersionRecord>> select(std::string_view where, std::string_view argument,
                                                   std::string& error);

  sqlite3* db_;
};

}  // namespace tollway::control
