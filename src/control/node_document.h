// NodeDocument: one node's document (gateway or sidecar, by its role) as the control plane resolves it from a
// policy directory — its role's shared sections with its group's replacements, concatenated from their original
// text, a gateway's `providers` and `credentials.providers` cut down to the providers its own routes and models
// name (node_scope.h) — with a line map that sends an error about a line of the document ("ORIGIN:LINE: key.path:
// message", as the gateway's prepare writes it) back to the policy file and line it came from. The document's
// first line names the node and its group, not the policy: the node's version (config::document_version of the
// bytes) changes only when its own document does, never with a change it does not receive. It never validates a
// section (the role's check does) and never holds a provider the node's routes and models do not name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/policy_directory.h"

namespace tollway::control {

struct NodeDocument {
  std::string node;
  std::string group;  // "" when the node is in no group
  std::string bytes;
  std::string version;          // config::document_version(bytes)
  std::string content_version;  // config::content_version(bytes): without the first line, naming the policy
  struct Lines {
    int first = 0;  // 1-based line in `bytes`
    int count = 0;
    std::string file;
    int source_first = 0;  // the line in `file` that `first` came from
  };
  std::vector<Lines> lines;
  // Why the document could not be scoped ("file:line: key.path: problem"): a policy with one is never published.
  std::vector<std::string> scope_problems;

  // `error` about this document under the name `origin` ("ORIGIN:LINE: rest" or "ORIGIN: rest"), as
  // "file:line: rest" in the policy directory; "node ID: rest" when it names no line of a section.
  std::string translate(std::string_view origin, std::string_view error) const;
};

NodeDocument build_node_document(const PolicyDirectory& policy, const DeclaredNode& node);
// The document of `node`, another node of `same`'s role and group, without assembling it again: `same`'s bytes
// under `node`'s own first line (and its version).
NodeDocument document_for(const NodeDocument& same, const DeclaredNode& node);

}  // namespace tollway::control
