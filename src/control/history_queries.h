// HistoryQueries: what `tollway control history | diff | rollback` and the control plane's GET /v1/history,
// GET /v1/history/diff and POST /v1/rollback read from the PolicyHistory, written once for both: a version as
// JSON, the unified diff of two versions per file, and what a rollback publishes (a version's files with a
// note naming it) or why a directory store is not rolled back here. Reads only: it never publishes, never
// checks a policy and never writes the history.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/policy_history.h"

namespace tollway::control {

// {revision, counter, content_hash, parent, published_at, store, author, commit, commit_author, note,
// changes, canary?, rollout?}; `rollout_json` is its staged rollout (rollout::history_json), "" = none.
std::string version_json(const VersionRecord& version, std::string_view rollout_json = {});

struct FileDiff {
  std::string path;
  std::string change;  // "added", "removed" or "changed"
  std::string diff;    // unified_diff, named REVISION/PATH (or /dev/null)
};
struct VersionDiff {
  VersionRecord from;
  VersionRecord to;
  std::vector<FileDiff> files;  // every file that differs, by path
};
// The versions `from` and `to` name (PolicyHistory::find) and their files' differences; nullopt with `error`.
std::optional<VersionDiff> diff_versions(PolicyHistory& history, std::string_view from, std::string_view to,
                                         std::string& error);
// {from, to, files:[{file, change, diff}]}.
std::string version_diff_json(const VersionDiff& diff);

struct RollbackPlan {
  VersionRecord version;  // the version restored
  PolicyFiles files;      // its files, rooted at the etcd prefix
  PublishMeta meta;       // author, its commit, now, "rollback to REVISION"
};
// What rolling back to `version` publishes under `prefix`; nullopt with `error` when the history has no such
// version or cannot read it.
std::optional<RollbackPlan> plan_rollback(PolicyHistory& history, std::string_view version,
                                          const std::string& prefix, const std::string& author,
                                          std::string& error);
// Why a directory store is rolled back in Git rather than by tollway, naming `version`'s commit when it has
// one.
std::string directory_rollback_refusal(const VersionRecord& version);

}  // namespace tollway::control
