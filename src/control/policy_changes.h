// PolicyChanges: what changed between two versions of a policy's files, per file — added, removed or changed,
// and for a changed file the top-level keys whose text changed (added, removed or edited) — for the history's
// change summary. Pure; it never parses a value (it compares each key's original text).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tollway::control {

struct FileChange {
  std::string path;
  std::string change;             // "added", "removed" or "changed"
  std::vector<std::string> keys;  // for "changed": the top-level keys whose text differs (may be empty)
};

std::vector<FileChange> policy_changes(const std::map<std::string, std::string>& before,
                                       const std::map<std::string, std::string>& after);

// One line per file: "changed groups/zone-a.yaml (sections)", "added x.yaml".
std::string describe_changes(const std::vector<FileChange>& changes);

}  // namespace tollway::control
