// Reader of the `credentials:` section (where each provider's API keys come from: env, files, HashiCorp Vault
// KV v2; with weights) into CredentialsConfig. Validates references to providers; never reads the sources or
// logs values (the Vault token is a secret).
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/validator.h"

namespace tollway::config {

// Call after the providers are read: credentials may only name configured providers.
void read_credentials_section(Validator& v, const YAML::Node& root, GatewayConfig& c);

}  // namespace tollway::config
