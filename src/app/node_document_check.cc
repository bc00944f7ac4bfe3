#include "app/node_document_check.h"

#include <yaml-cpp/yaml.h>

#include "limits/admission/config.h"
#include "sidecar/config.h"

namespace tollway::app {
namespace {

const config::EnvLookup kPlaceholderSecrets = [](const std::string&) {
  return std::optional<std::string>(std::string(48, 'x'));
};

}  // namespace

std::optional<std::map<std::string, int64_t, std::less<>>> read_node_budgets(control::NodeRole role,
                                                                               const std::string& bytes) {
  std::map<std::string, int64_t, std::less<>> budgets;
  if (role == control::NodeRole::Sidecar) {
    const sidecar::SidecarLoadResult loaded = sidecar::parse_sidecar_config(bytes, "node document", kPlaceholderSecrets);
    if (!loaded.config) return std::nullopt;
    for (const auto& rule : loaded.config->local_limits.rules)
      if (rule.budget) budgets[rule.name] = rule.limit;
    return budgets;
  }
  config::Validator v("node document", kPlaceholderSecrets);
  config::GatewayConfig scratch;
  try {
    const YAML::Node limits = YAML::Load(bytes)["limits"];
    if (limits.IsMap()) config::read_limits_policy(v, limits, "", scratch);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  for (const auto& b : scratch.limits_policy.budgets) budgets[b.name] = b.limit;
  return budgets;
}

}  // namespace tollway::app
