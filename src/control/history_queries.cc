#include "control/history_queries.h"

#include <set>

#include "control/unified_diff.h"
#include "core/json.h"

namespace tollway::control {

std::string version_json(const VersionRecord& v, std::string_view rollout_json) {
  std::string changes = "[";
  for (const auto& c : v.changes) {
    std::string keys = "[";
    for (const auto& k : c.keys) keys += (keys.size() > 1 ? "," : "") + json::quoted(k);
    json::ObjectWriter w;
    w.field("file", c.path).field("change", c.change).raw_field("keys", keys + "]");
    changes += (changes.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter w;
  w.field("revision", v.revision)
      .field("counter", v.counter)
      .field("content_hash", v.content_hash)
      .field("parent", v.parent)
      .field("published_at", v.published_at)
      .field("store", v.store)
      .field("author", v.meta.author)
      .field("commit", v.meta.commit)
      .field("commit_author", v.meta.commit_author)
      .field("note", v.meta.note)
      .raw_field("changes", changes + "]");
  if (!v.meta.canary.empty()) w.field("canary", v.meta.canary);
  if (!rollout_json.empty()) w.raw_field("rollout", rollout_json);
  return std::move(w).finish();
}

std::optional<VersionDiff> diff_versions(PolicyHistory& history, std::string_view from, std::string_view to,
                                         std::string& error) {
  auto a = history.find(from, error);
  auto b = a ? history.find(to, error) : std::nullopt;
  const auto a_files = b ? history.files_of(a->counter, error) : std::nullopt;
  const auto b_files = a_files ? history.files_of(b->counter, error) : std::nullopt;
  if (!b_files) return std::nullopt;
  VersionDiff result{std::move(*a), std::move(*b), {}};
  std::set<std::string> paths;
  for (const auto& [path, bytes] : *a_files) paths.insert(path);
  for (const auto& [path, bytes] : *b_files) paths.insert(path);
  for (const auto& path : paths) {
    const auto old_file = a_files->find(path);
    const auto new_file = b_files->find(path);
    const bool had = old_file != a_files->end(), has = new_file != b_files->end();
    std::string diff = unified_diff(had ? result.from.revision + "/" + path : "/dev/null",
                                    had ? std::string_view(old_file->second) : std::string_view(),
                                    has ? result.to.revision + "/" + path : "/dev/null",
                                    has ? std::string_view(new_file->second) : std::string_view());
    if (diff.empty()) continue;
    result.files.push_back({path, had ? (has ? "changed" : "removed") : "added", std::move(diff)});
  }
  return result;
}

std::string version_diff_json(const VersionDiff& diff) {
  std::string files = "[";
  for (const auto& f : diff.files) {
    json::ObjectWriter w;
    w.field("file", f.path).field("change", f.change).field("diff", f.diff);
    files += (files.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter w;
  w.field("from", diff.from.revision).field("to", diff.to.revision).raw_field("files", files + "]");
  return std::move(w).finish();
}

std::optional<RollbackPlan> plan_rollback(PolicyHistory& history, std::string_view version,
                                          const std::string& prefix, const std::string& author,
                                          std::string& error) {
  auto record = history.find(version, error);
  auto files = record ? history.files_of(record->counter, error) : std::nullopt;
  if (!files) return std::nullopt;
  PublishMeta meta;
  meta.author = author;
  meta.commit = record->meta.commit;
  meta.commit_author = record->meta.commit_author;
  meta.published_at = utc_now_text();
  meta.note = "rollback to " + record->revision;
  return RollbackPlan{std::move(*record), PolicyFiles{prefix, std::move(*files)}, std::move(meta)};
}

std::string directory_rollback_refusal(const VersionRecord& version) {
  return "the policy store is a directory and tollway does not write it: roll back in Git, e.g. `git revert` "
         "or `git checkout COMMIT -- .` in the policy directory, and the control plane publishes the result as a "
         "new version" +
         (version.meta.commit.empty()
              ? std::string()
              : " (" + version.revision + " came from commit " + version.meta.commit + ")");
}

}  // namespace tollway::control
