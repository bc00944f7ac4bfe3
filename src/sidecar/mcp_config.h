// McpConfig: the `mcp:` section of the sidecar document. Serving: the local agent is an MCP server (streamable
// HTTP) at `paths` on the inbound side, named `server` in rules, limits and spans, and `rules` say which caller
// identities may call which of its tools, read which resources and get which prompts (deny rules first, then
// allow; once any enforced allow rule exists the default is deny; `mode: audit` rules only log:
// src/mcp/guard/rules.h). Calling:
// `endpoint` gives the local agent one MCP URL on the outbound listener whose tools and prompts are the union of
// several peers' MCP servers, named SERVER_TOOL. Parsing only validates and converts, with file:line; it never
// logs a value it reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/validator.h"
#include "mcp/guard/rules.h"
#include "mcp/operation.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

// A rule of `mcp.rules`: about the callers of `from` (SPIFFE IDs, exact or patterns).
struct McpRule : mcp::McpRuleBase {
  std::vector<tls::SpiffeIdPattern> from;
};

// One upstream of `mcp.endpoint`: the MCP server at `path` on peer `peer`, its tools and prompts named
// `name` + "_" + their own name.
struct McpUpstream {
  std::string name;
  std::string peer;  // a name of the document's peers
  std::string path = "/mcp";
  int line = 0;
};

// `mcp.endpoint`: the agent's one MCP URL (origin form on the outbound listener, e.g. http://127.0.0.1:15001/mcp).
struct McpEndpointConfig {
  std::string path = "/mcp";
  std::vector<McpUpstream> servers;
};

struct McpConfig {
  bool enabled = false;             // the local agent serves MCP (mcp.server is set)
  std::string server;               // this agent's MCP server name
  std::vector<std::string> paths;   // inbound paths that are MCP (exact, query excluded); default ["/mcp"]
  std::vector<McpRule> rules;
  uint64_t max_message_bytes = 4 << 20;  // a request or response message longer than this is refused
  std::optional<McpEndpointConfig> endpoint;
};

using mcp::McpDecision;

// The decision for `caller` (a SPIFFE ID) on `kind` / `target`. TargetKind::None is always allowed.
McpDecision decide_mcp(const McpConfig& config, const tls::SpiffeId& caller, mcp::TargetKind kind,
                       std::string_view target);

// Reads `mcp:` (absent or null: neither serving nor calling). `peer_names`: the document's peers (endpoint
// servers name them).
void read_mcp(config::Validator& v, const YAML::Node& node, const std::vector<std::string>& peer_names, McpConfig& out);

}  // namespace tollway::sidecar
