// The gateway's own check of one document, as the control plane and `tollway validate DIR` run it on each node's
// resolved document: GatewayRole::prepare with no active snapshot — the pure step a gateway runs before applying
// a config. It never commits: nothing of process state changes.
#pragma once

#include "control/policy_check.h"
#include "gateway/role.h"

namespace tollway::app {

inline control::DocumentVerdict check_gateway_document(const std::string& bytes, const std::string& origin) {
  gateway::GatewayRole role;
  proxy::PrepareResult result = role.prepare(proxy::ConfigDocument{bytes, origin, {}}, nullptr);
  return {result.prepared.has_value(), std::move(result.errors), std::move(result.warnings)};
}

}  // namespace tollway::app
