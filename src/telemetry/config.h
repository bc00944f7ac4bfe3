// Reader of the `telemetry` config section (docs/configuration.md): tracing (sampling, trust boundary, baggage,
// content capture), the OTLP/HTTP exporter, metric label caps, and the access and decision logs. It only
// validates and converts, reporting every error with file:line; it never opens a file or a connection.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/gateway_config.h"
#include "config/validator.h"

namespace tollway::config {

void read_telemetry_section(Validator& v, const YAML::Node& root, GatewayConfig& c);
// The same section into a TelemetryConfig alone (the sidecar's document carries it too).
void read_telemetry_section(Validator& v, const YAML::Node& root, TelemetryConfig& tc);

}  // namespace tollway::config
