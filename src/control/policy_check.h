// PolicyCheck: validates a whole policy exactly as publishing does (`tollway control` on a change, `tollway
// validate DIR` offline, `tollway control publish DIR` before it writes to etcd) — its structure (PolicyDirectory), then every declared node's resolved
// document through the same pure check its node runs before applying it (the gateway's or the sidecar's prepare,
// by the node's role, passed in by the caller so that this folder depends on no role; once per distinct document). Errors and warnings name the policy file and line. It
// never applies anything and never publishes a policy that has one error.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/node_document.h"
#include "control/policy_directory.h"
#include "control/rollout/rollout_spec.h"

namespace tollway::control {

// The result of checking one document named `origin` (errors as "ORIGIN:LINE: key.path: message").
struct DocumentVerdict {
  bool ok = false;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};
using CheckDocument =
    std::function<DocumentVerdict(NodeRole role, const std::string& bytes, const std::string& origin)>;
// The budgets (name -> limit, in the budget's unit) a node's document declares for leasing, read the way that role
// reads them; nullopt when the document cannot be read. A role's own reader, injected like CheckDocument.
using ReadBudgets = std::function<std::optional<std::map<std::string, int64_t, std::less<>>>(
    NodeRole role, const std::string& bytes)>;

// A policy in which every node's document passed the check.
struct CheckedPolicy {
  std::string content_hash;
  std::vector<DeclaredNode> nodes;
  std::vector<NodeDocument> documents;  // one per node, in the same order
  // The staged rollout rollout.yaml asks for (its canary selects at least one node and not all); none: published
  // to every node at once.
  std::optional<rollout::RolloutSpec> rollout;
};

struct PolicyVerdict {
  std::optional<CheckedPolicy> policy;
  std::vector<std::string> errors;    // "file:line: key.path: problem", each once
  std::vector<std::string> warnings;  // same form
};

PolicyVerdict check_policy(const PolicyFiles& files, const CheckDocument& check);
// read_policy_directory(dir), then the check above.
PolicyVerdict check_policy(const std::string& dir, const CheckDocument& check);

}  // namespace tollway::control
