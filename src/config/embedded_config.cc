#include "config/embedded_config.h"

#include <string>

namespace tollway::config {

LoadResult load_embedded_gateway_config(const EnvLookup& env) {
  return parse_gateway_config(kEmbeddedGatewayYaml, std::string(kEmbeddedConfigName), env);
}

std::optional<std::string_view> embedded_config_file(std::string_view relative_path) {
  if (relative_path == "pricing.yaml") return kEmbeddedPricingYaml;
  return std::nullopt;
}

}  // namespace tollway::config
