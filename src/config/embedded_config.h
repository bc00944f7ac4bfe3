// The default gateway config and price table compiled into the binary at build time (config/gateway.yaml and
// config/pricing.yaml as they were in the source tree), so `tollway gateway` without --config runs wherever the
// binary is copied. The embedded config names its price table as `pricing.file: pricing.yaml`, which resolves to
// the embedded copy. Never reads a file and never changes while the process runs.
#pragma once

#include <optional>
#include <string_view>

#include "config/loader.h"

namespace tollway::config {

// The embedded config's name in errors, logs and the admin /config `source` field.
inline constexpr std::string_view kEmbeddedConfigName = "embedded:gateway.yaml";

extern const std::string_view kEmbeddedGatewayYaml;
extern const std::string_view kEmbeddedPricingYaml;

// Parses and validates the embedded config (its ${env:...} references are read from env).
LoadResult load_embedded_gateway_config(const EnvLookup& env = process_environment());

// The text of a file the embedded config names by a relative path ("pricing.yaml"), or nothing.
std::optional<std::string_view> embedded_config_file(std::string_view relative_path);

}  // namespace tollway::config
