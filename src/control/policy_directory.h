// PolicyDirectory: reads a policy's files (PolicyFiles: a directory for `tollway control --policy DIR` and
// `tollway validate DIR`, or the keys under an etcd prefix) into its parts — the sections shared by gateway nodes
// (DIR/*.yaml but nodes.yaml and rollout.yaml, which rollout/rollout_spec reads: top-level keys of the gateway document), those shared by sidecar nodes
// (DIR/sidecars/*.yaml: top-level keys of the sidecar document), the node groups (DIR/groups/NAME.yaml: a label selector and the sections that replace shared ones for its nodes) and
// the declared nodes (DIR/nodes.yaml: role, labels, the sha256 of each bootstrap token and the SPIFFE ID it holds) — keeping each section's
// original text and lines. It checks the directory's own structure and references (a key in two files, a SPIFFE ID
// declared for two nodes, a group whose selector matches no node or nodes of two roles, a node in two groups, unknown keys); it never checks a section's content (the
// gateway's prepare does, on each node's document) and never reads a file (its caller hands it the bytes).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/policy_files.h"
#include "control/text_blocks.h"

namespace tollway::control {

// What a node runs, and so which document it is given: `role:` in nodes.yaml, gateway when absent.
enum class NodeRole { Gateway, Sidecar };
std::string_view role_name(NodeRole role);

struct DeclaredNode {
  std::string id;
  NodeRole role = NodeRole::Gateway;
  std::map<std::string, std::string> labels;
  std::string token_sha256;  // lower-case hex; "" = no bootstrap token (only with spiffe_id)
  // The SPIFFE ID whose certificate authenticates this node to the watch API (and only this node); "" = none
  std::string spiffe_id;
  std::string file;
  int line = 0;
};

struct NodeGroup {
  std::string name;  // the file name without .yaml
  std::string file;
  int line = 0;      // of `selector:`
  std::map<std::string, std::string> selector;  // every label must be equal
  std::vector<TextBlock> sections;              // replace the shared section of the same key
  bool selects(const DeclaredNode& node) const;
};

struct PolicyDirectory {
  std::string dir;  // the root its files are named under (directory or etcd prefix)
  std::vector<TextBlock> shared;          // gateway nodes': in file-name order, then in each file's order
  std::vector<TextBlock> sidecar_shared;  // sidecar nodes': the same, from sidecars/
  std::vector<NodeGroup> groups;    // by name
  std::vector<DeclaredNode> nodes;  // by id
  std::map<std::string, std::string> group_of;  // node id -> group name, for nodes in a group
  std::string content_hash;  // sha256 (hex) of every policy file's name and bytes

  const std::vector<TextBlock>& shared_for(NodeRole role) const {
    return role == NodeRole::Sidecar ? sidecar_shared : shared;
  }
};

struct PolicyLoad {
  std::optional<PolicyDirectory> policy;
  std::vector<std::string> errors;    // "file:line: key.path: problem"
  std::vector<std::string> warnings;  // same form
};

PolicyLoad load_policy(const PolicyFiles& files);
// read_policy_directory, then load_policy.
PolicyLoad load_policy_directory(const std::string& dir);

}  // namespace tollway::control
