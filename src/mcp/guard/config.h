// The gateway's `mcp:` section (docs/configuration.md, MCP servers): MCP servers exposed through the gateway,
// each at its own gateway path, reached at its URL with the gateway's credential for it, and used by
// authenticated callers as `rules` allow — by tenant, agent group, agent and key — per tool, resource and prompt.
// Also reads the `tools` / `resources` / `prompts` of any role's MCP rule. Parsing only validates and converts,
// with file:line; it never logs a value it reads (a header may hold a credential).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/gateway_config.h"
#include "config/validator.h"

namespace tollway::config {

// Reads `tools`, `resources` and `prompts` of rule `r` at `path` (e.g. "mcp.rules[2]"); a rule naming none of
// them fails.
mcp::McpTargets read_mcp_targets(Validator& v, const YAML::Node& r, const std::string& path);

// Reads `mcp:` (absent or null: no server) into c.mcp; the routes are known (a server's path may not be one).
void read_mcp_section(Validator& v, const YAML::Node& root, GatewayConfig& c);

}  // namespace tollway::config
