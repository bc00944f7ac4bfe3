// PolicyFiles: a whole policy as bytes in memory — each policy file's relative path (`base.yaml`,
// `sidecars/mesh.yaml`, `groups/zone-a.yaml`, `nodes.yaml`) and content — with the root that names the files in errors (the policy
// directory, or the etcd prefix). Both stores produce one (a directory read here, etcd in etcd/etcd_policy), so
// the check, the content hash and the history see exactly the same thing. It never reads a file that is not a
// policy file (DIR/NAME.yaml, DIR/sidecars/NAME.yaml or DIR/groups/NAME.yaml, NAME not starting with a dot) and
// never parses YAML.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::control {

struct PolicyFiles {
  std::string root;                          // the directory or the etcd prefix
  std::map<std::string, std::string> files;  // relative path -> bytes

  // The name of `path` in errors: ROOT/PATH.
  std::string name_of(const std::string& path) const;
  // sha256 (hex) of every file's relative path and bytes: the policy's content hash.
  std::string content_hash() const;
};

// The subdirectories a policy file may be in: node groups, and the sections shared by sidecar nodes.
inline constexpr std::string_view kGroupsDir = "groups/";
inline constexpr std::string_view kSidecarsDir = "sidecars/";

// `path` is a policy file's relative path: NAME.yaml, sidecars/NAME.yaml or groups/NAME.yaml.
bool is_policy_file(std::string_view path);

// The policy files of `dir`. An unreadable file or a `dir` that is not a directory adds an error
// ("file: problem") and is left out.
PolicyFiles read_policy_directory(const std::string& dir, std::vector<std::string>& errors);

// The paths of the policy files of `dir` (sorted), for a watcher.
std::vector<std::string> policy_files(const std::string& dir);

}  // namespace tollway::control
