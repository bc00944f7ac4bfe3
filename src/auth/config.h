// Reader of the `auth:` section (caller authentication: admin token, virtual key store, JWT issuers, token
// exchange) into AuthConfig. It only validates and types values (and refuses an issuer `allow` that needs
// bodies a `body: raw` route does not read, so it runs after the routes are read); it never opens files or the
// network, and never logs values (the admin token is a secret).
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/validator.h"

namespace tollway::config {

void read_auth_section(Validator& v, const YAML::Node& root, GatewayConfig& c);

// A YAML list of strings (each interpolated); errors name the path. Shared by the auth and credentials readers.
std::vector<std::string> read_string_list(Validator& v, const YAML::Node& node, const std::string& path);

// An access rule's `action` (allow or deny, required) and `mode` (enforce or audit, default enforce) at `path`
// (e.g. "mcp.rules[2]"); shared by the gateway's and the sidecar's rule readers.
void read_rule_action(Validator& v, const YAML::Node& rule, const std::string& path, bool& deny, bool& audit);

}  // namespace tollway::config
