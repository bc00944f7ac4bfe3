// Each role's own check of one document, as the control plane and `tollway validate` run it on a node's resolved
// document: the role's prepare with no active snapshot — the pure step a node runs before applying a config; and
// each role's reading of the budgets a document declares (what the control plane leases). It never commits:
// nothing of process state changes.
#pragma once

#include "control/policy_check.h"
#include "gateway/role.h"
#include "sidecar/role.h"

namespace tollway::app {

template <typename Role>
control::DocumentVerdict check_document_with(const std::string& bytes, const std::string& origin) {
  Role role;
  proxy::PrepareResult result = role.prepare(proxy::ConfigDocument{bytes, origin, {}}, nullptr);
  return {result.prepared.has_value(), std::move(result.errors), std::move(result.warnings)};
}

inline control::DocumentVerdict check_gateway_document(const std::string& bytes, const std::string& origin) {
  return check_document_with<gateway::GatewayRole>(bytes, origin);
}

inline control::DocumentVerdict check_sidecar_document(const std::string& bytes, const std::string& origin) {
  return check_document_with<sidecar::SidecarRole>(bytes, origin);
}

// The check of a declared node's document, by its role.
inline control::DocumentVerdict check_node_document(control::NodeRole role, const std::string& bytes,
                                                    const std::string& origin) {
  return role == control::NodeRole::Sidecar ? check_sidecar_document(bytes, origin)
                                            : check_gateway_document(bytes, origin);
}

// The budgets (name -> limit) of a node's resolved document, read by its role's own parser. Secrets are resolved on
// the node, so every ${env:…} reads as a placeholder here: only names and limits are used.
std::optional<std::map<std::string, int64_t, std::less<>>> read_node_budgets(control::NodeRole role,
                                                                               const std::string& bytes);

}  // namespace tollway::app
