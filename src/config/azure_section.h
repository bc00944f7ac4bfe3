// Reader of a provider's `azure:` block (Azure OpenAI: deployment URLs, api-version, the `api-key` header) into
// ProviderConfig::azure. Validates only; never builds a URL or touches a request.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/validator.h"

namespace tollway::config {

// `node` is providers.NAME.azure; call after the provider's `api` is read (azure needs api: openai).
void read_azure_block(Validator& v, const YAML::Node& node, const std::string& path, ProviderConfig& p);

}  // namespace tollway::config
