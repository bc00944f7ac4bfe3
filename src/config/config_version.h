// ConfigVersion: the version shown at /config, in /metrics and in logs: the first 12 hex digits of a sha256
// over the *resolved* config, i.e. the config bytes, the value of every environment variable the config read,
// and the bytes of every file it names (price table, TLS certificates, keys and CAs, JWKS files, credential
// files). So a changed env value or price file changes the version although the YAML did not. The inputs are
// hashed, never logged or kept: they may be secrets. It never decides whether a config is valid.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace tollway::config {

// One named input: an environment variable (value nullopt = unset) or a file (bytes nullopt = unreadable).
struct VersionInput {
  std::string name;
  std::optional<std::string> value;
};

struct VersionInputs {
  std::string_view document;              // the config bytes as read, before ${env:...} interpolation
  std::vector<VersionInput> environment;  // every variable the config read; order does not matter
  std::vector<VersionInput> files;        // every file the config names; order does not matter
};

// 12 lower-case hex digits. Equal inputs give equal versions; any change of a byte, a value, a name, or an
// input's presence gives a different one.
std::string config_version(const VersionInputs& inputs);

// Every file `config` names, each path resolved as the component that reads it resolves it (TLS files as
// written, JWKS and credential files relative to the config file's directory; the embedded price table as
// "embedded:pricing.yaml"). Output files (logs, spend log, key store) are not inputs and are not listed.
std::vector<std::string> referenced_files(const GatewayConfig& config);

// Environment variables `config` names outside ${env:...} interpolation (credential sources `env: NAME`).
std::vector<std::string> referenced_variables(const GatewayConfig& config);

}  // namespace tollway::config
