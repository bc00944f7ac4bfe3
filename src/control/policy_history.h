// PolicyHistory: every policy version the control plane published, kept in SQLite (STATE_DIR/history.db, or in
// memory without a state dir) — its revision (COUNTER-HASH: the counter of published versions and the first 12
// hex digits of the content hash), its parent, when, from which store, who published it (PublishMeta), what
// changed per file against its parent, and all of its files, so that any two versions can be diffed and any
// version published again. A version is written in one SQLite transaction before it is published: nothing
// accepted is lost on a crash. It also keeps every NACK a node sent (the newest kNackHistoryLimit), so that a
// refusal stays on record after the node moves on. It never decides what is published and never changes a
// recorded version.
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

// A node refused a version it was sent (POST /v1/ack with an error).
struct NackRecord {
  std::string at;  // when the control plane recorded it (RFC 3339 UTC)
  std::string node, version, reason;
};

inline constexpr int64_t kNackHistoryLimit = 10'000;  // NACKs kept; older ones are removed as new ones come

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
  // What record() would return, without writing: the newest version when its content is `files`, otherwise the
  // next version (counter, revision, parent, now) with `meta` — not yet in the history.
  std::optional<VersionRecord> next_version(const PolicyFiles& files, const std::string& store,
                                            const PublishMeta& meta, std::string& error);
  // Writes `version` exactly as given (its counter, revision, time, meta) with `files`, its changes computed
  // against its parent when the history has it: how a control plane takes in the versions another one recorded.
  // A version already recorded under the same counter and revision is left as it is; a different one under its
  // counter is an error.
  bool import(const VersionRecord& version, const std::map<std::string, std::string>& files, std::string& error);
  // Every version, newest first.
  std::optional<std::vector<VersionRecord>> list(std::string& error);
  // The version `name` names: its revision, its counter, or a prefix (6+ hex digits) of its content hash that
  // names one version's content (the newest version with that content).
  std::optional<VersionRecord> find(std::string_view name, std::string& error);
  std::optional<std::map<std::string, std::string>> files_of(int64_t counter, std::string& error);

  // Records `nack` (durably, before the ACK request is answered); false with `error` when it cannot.
  bool record_nack(const NackRecord& nack, std::string& error);
  struct Nacks {
    int64_t total = 0;                // NACKs on record
    int64_t nodes = 0;                // distinct nodes among them
    std::vector<NackRecord> newest;  // up to the limit asked for, newest first
  };
  std::optional<Nacks> nacks(int64_t limit, std::string& error);

 private:
  explicit PolicyHistory(sqlite3* db) : db_(db) {}
  // True when `version` is already recorded under its counter; false with `error` when another one is.
  bool previous_is(const VersionRecord& version, std::string& error);
  // Writes `r` and its files, with its changes (set here) against its parent when the history has it.
  bool insert(VersionRecord& r, const std::map<std::string, std::string>& files, std::string& error);
  std::optional<std::vector<VersionRecord>> select(std::string_view where, std::string_view argument,
                                                   std::string& error);

  sqlite3* db_;
};

}  // namespace tollway::control
