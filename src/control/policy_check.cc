#include "control/policy_check.h"

#include <algorithm>

namespace tollway::control {
namespace {

void add_once(std::vector<std::string>& to, std::string line) {
  if (std::find(to.begin(), to.end(), line) == to.end()) to.push_back(std::move(line));
}

}  // namespace

PolicyVerdict check_policy(const std::string& dir, const CheckDocument& check) {
  std::vector<std::string> errors;
  PolicyFiles files = read_policy_directory(dir, errors);
  if (!errors.empty()) {
    PolicyVerdict verdict;
    verdict.errors = std::move(errors);
    return verdict;
  }
  return check_policy(files, check);
}

PolicyVerdict check_policy(const PolicyFiles& files, const CheckDocument& check) {
  PolicyVerdict verdict;
  PolicyLoad load = load_policy(files);
  verdict.errors = std::move(load.errors);
  verdict.warnings = std::move(load.warnings);
  if (!load.policy) return verdict;
  CheckedPolicy checked;
  checked.content_hash = load.policy->content_hash;
  for (const auto& node : load.policy->nodes) {
    NodeDocument doc = build_node_document(*load.policy, node);
    if (!doc.scope_problems.empty()) {
      for (auto& p : doc.scope_problems) add_once(verdict.errors, std::move(p));
      continue;
    }
    if (doc.lines.empty()) {  // the role's reader would only say "must be a mapping": say which files were empty
      add_once(verdict.errors, "node " + node.id + ": its document is empty: no section of " +
                                   (node.role == NodeRole::Sidecar ? "sidecars/*.yaml" : "the policy's *.yaml") +
                                   " or of a group that selects it");
      continue;
    }
    // Named as a file in the policy's root, so that the document's relative paths (a price table) resolve
    // there, as they would for a file beside the policy.
    const std::string origin = files.name_of(node.id + ".resolved.yaml");
    DocumentVerdict result = check(node.role, doc.bytes, origin);
    for (const auto& e : result.errors) add_once(verdict.errors, doc.translate(origin, e));
    for (const auto& w : result.warnings) add_once(verdict.warnings, doc.translate(origin, w));
    if (result.ok && result.errors.empty()) {
      checked.nodes.push_back(node);
      checked.documents.push_back(std::move(doc));
    }
  }
  if (verdict.errors.empty()) verdict.policy = std::move(checked);
  return verdict;
}

}  // namespace tollway::control
