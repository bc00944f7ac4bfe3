// Readers of the `pricing` and `usage` config sections (docs/configuration.md): the per-model price table
// (inline entries and a versioned price file such as config/pricing.yaml) and the limits on reading a stream
// after its client has gone. They only validate and convert; they never price a request themselves.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/gateway_config.h"
#include "config/validator.h"

namespace tollway::config {

// `config_file` is the gateway config's path: a relative `pricing.file` is resolved against its directory.
void read_pricing_section(Validator& v, const YAML::Node& root, const std::string& config_file, GatewayConfig& c);
void read_usage_section(Validator& v, const YAML::Node& root, GatewayConfig& c);

// "25", "2.50", "0.000001" (USD, at most 6 decimals, whole part at most max_whole) -> micro-dollars; nullopt when
// malformed (empty, over 20 characters, a leading or trailing '.', anything but digits and one '.').
std::optional<int64_t> parse_micro_usd(const std::string& text, int64_t max_whole);

// "2.50" (USD per 1M tokens, at most 6 decimals) -> 2'500'000 micro-dollars; nullopt when malformed.
std::optional<int64_t> parse_price(const std::string& text);

}  // namespace tollway::config
