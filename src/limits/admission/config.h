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

// The process bounds on downstream work that every proxy role (gateway, sidecar) reads from its `limits:`
// (docs/configuration.md, limits): max_connections, max_connections_per_peer, max_requests_in_flight.
const std::vector<std::string>& connection_limit_keys();
void read_connection_limits(Validator& v, const YAML::Node& limits, Limits& out);

// `config_file`: a relative spend_log.path is resolved against its directory.
void read_limits_policy(Validator& v, const YAML::Node& limits, const std::string& config_file,
                        GatewayConfig& c);

// The parts of a rule other readers share (the sidecar's `limits:` section): a unit name ("requests", "input_tokens",
// "output_tokens", "total_tokens", "cost_usd"), a GCRA window ("1s" to "31d") and a rule name (letters, digits,
// '-', '_', '.'; 1-64); nullopt / false when malformed.
std::optional<LimitUnit> parse_limit_unit(const std::string& text);
std::optional<std::chrono::milliseconds> parse_limit_window(const std::string& text);
bool valid_limit_name(const std::string& text);

// on_lease_exhausted, on_control_unreachable and safe_allowance under `node` (a `leased:` section or one budget),
// into `modes`; keys absent leave `modes` as it is.
void read_lease_modes(Validator& v, const YAML::Node& node, const std::string& path, LeaseModes& modes);

// "25", "25.50", "0.000001" (USD, at most 6 decimals, up to 1e9) -> micro-dollars; nullopt when malformed.
std::optional<int64_t> parse_usd(const std::string& text);

}  // namespace tollway::config
