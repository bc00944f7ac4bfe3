// The sidecar document's tracing and runaway-protection keys (docs/sidecar.md): `telemetry` (the gateway's
// section, same parser), `orphans: log|repair`, `max_hops` (1-255) and `fanout.secret` (the gateway's fan-out
// HMAC key, >= 32 bytes). It only validates and converts, reporting errors with file:line; never logs a
// secret.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/validator.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

void read_trace_sections(config::Validator& v, const YAML::Node& root, SidecarConfig& c);

}  // namespace tollway::sidecar
