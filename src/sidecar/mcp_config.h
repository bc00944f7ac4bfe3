// McpConfig: the `mcp:` section of the sidecar document — the local agent is an MCP server (streamable HTTP) at
// `paths` on the inbound side, named `server` in rules, limits and spans, and `rules` say which caller identities
// may call which of its tools, read which resources and get which prompts (deny rules first, then allow; once
// any enforced allow rule exists the default is deny; `mode: audit` rules only log). Parsing only validates and
// converts, with file:line; it never logs a value it reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/validator.h"
#include "mcp/operation.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

struct McpRule {
  bool deny = false;
  std::vector<tls::SpiffeIdPattern> from;
  std::vector<std::string> tools, resources, prompts;  // glob patterns (core/glob.h); empty: the rule names none
  bool audit = false;
  int line = 0;
  // The patterns of `kind` (empty for TargetKind::None).
  const std::vector<std::string>& patterns(mcp::TargetKind kind) const;
};

struct McpConfig {
  bool enabled = false;             // the section is present
  std::string server;               // this agent's MCP server name
  std::vector<std::string> paths;   // inbound paths that are MCP (exact, query excluded); default ["/mcp"]
  std::vector<McpRule> rules;
  uint64_t max_message_bytes = 4 << 20;  // a request or response message longer than this is refused
};

// What a caller's operation is decided as: allowed or not, the rule that decided (0: the default) and whether an
// audit rule matched on the way (logged, never enforced).
struct McpDecision {
  bool allowed = true;
  int rule_line = 0;
  int audit_line = 0;  // an audit rule that would have decided differently
};

// The decision for `caller` (a SPIFFE ID) on `kind` / `target`. TargetKind::None is always allowed.
McpDecision decide_mcp(const McpConfig& config, const tls::SpiffeId& caller, mcp::TargetKind kind,
                       std::string_view target);

// Reads `mcp:` (absent or null: disabled).
void read_mcp(config::Validator& v, const YAML::Node& node, McpConfig& out);

}  // namespace tollway::sidecar
