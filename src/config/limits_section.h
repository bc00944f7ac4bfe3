// Reader of the policy keys of the `limits:` section (docs/configuration.md, "limits: rate limits and
// budgets"): ledger mode, Redis and spend-log settings, rules, budgets, sessions and fan-out budgets, into
// LimitsPolicy. It only validates and converts (every error with file:line, key path and what is allowed); it
// never builds a ledger and never logs a value (the fan-out secret and the Redis URL may hold secrets).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/gateway_config.h"
#include "config/validator.h"

namespace tollway::config {

// The keys of `limits:` this reader owns (loader.cc allows them next to the HTTP size limits).
const std::vector<std::string>& limits_policy_keys();

// `config_file`: a relative spend_log.path is resolved against its directory.
void read_limits_policy(Validator& v, const YAML::Node& limits, const std::string& config_file,
                        GatewayConfig& c);

// "25", "25.50", "0.000001" (USD, at most 6 decimals, up to 1e9) -> micro-dollars; nullopt when malformed.
std::optional<int64_t> parse_usd(const std::string& text);

}  // namespace tollway::config
