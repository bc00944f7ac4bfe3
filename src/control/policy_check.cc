#include "control/policy_check.h"

#include <algorithm>
#include <map>
#include <utility>

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
  struct CheckedContent {
    std::string origin;
    DocumentVerdict verdict;
  };
  std::map<std::pair<NodeRole, std::string>, CheckedContent> checked_contents;
  // A document depends on the node's role and group only: assembled (and scoped) once per group.
  std::map<std::pair<NodeRole, std::string>, NodeDocument> assembled;
  for (const auto& node : load.policy->nodes) {
    const auto group = load.policy->group_of.find(node.id);
    const std::pair<NodeRole, std::string> of{node.role, group == load.policy->group_of.end() ? "" : group->second};
    const auto same = assembled.find(of);
    NodeDocument doc = same != assembled.end() ? document_for(same->second, node) : build_node_document(*load.policy, node);
    if (same == assembled.end()) assembled.emplace(of, doc);
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
    // there, as they would for a file beside the policy. Nodes whose documents differ only in their first line
    // (the same role and sections: every node of a group) are checked once: the check reads the bytes and the
    // policy's root, nothing of the node.
    auto [cached, first] = checked_contents.try_emplace({node.role, doc.bytes.substr(doc.bytes.find('\n') + 1)});
    if (first) {
      cached->second.origin = files.name_of(node.id + ".resolved.yaml");
      cached->second.verdict = check(node.role, doc.bytes, cached->second.origin);
    }
    const std::string& origin = cached->second.origin;
    const DocumentVerdict& result = cached->second.verdict;
    for (const auto& e : result.errors) add_once(verdict.errors, doc.translate(origin, e));
    for (const auto& w : result.warnings) add_once(verdict.warnings, doc.translate(origin, w));
    if (result.ok && result.errors.empty()) {
      checked.nodes.push_back(node);
      checked.documents.push_back(std::move(doc));
    }
  }
  if (const auto file = files.files.find(std::string(rollout::kRolloutFile)); file != files.files.end()) {
    const std::string name = files.name_of(file->first);
    checked.rollout = rollout::parse_rollout_file(name, file->second, verdict.errors);
    std::string error;
    if (checked.rollout && !rollout::select_canary(checked.rollout->canary, load.policy->nodes, error))
      add_once(verdict.errors, name + ": canary: " + error);
  }
  if (verdict.errors.empty()) verdict.policy = std::move(checked);
  return verdict;
}

}  // namespace tollway::control
