// NodeDocument: one node's document (gateway or sidecar, by its role) as the control plane resolves it from a
// policy directory — its role's shared sections with its group's replacements, concatenated from their original text — with a line map that
// sends an error about a line of the document ("ORIGIN:LINE: key.path: message", as the gateway's prepare writes
// it) back to the policy file and line it came from. The document's first line names the policy's content hash,
// so the node's version (the document's own version, config::document_version) changes with the policy revision.
// It never parses or validates a section.
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

  // `error` about this document under the name `origin` ("ORIGIN:LINE: rest" or "ORIGIN: rest"), as
  // "file:line: rest" in the policy directory; "node ID: rest" when it names no line of a section.
  std::string translate(std::string_view origin, std::string_view error) const;
};

NodeDocument build_node_document(const PolicyDirectory& policy, const DeclaredNode& node);

}  // namespace tollway::control
