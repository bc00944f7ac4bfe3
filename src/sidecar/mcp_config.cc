#include "sidecar/mcp_config.h"

#include <algorithm>

#include "auth/config.h"
#include "mcp/guard/config.h"
#include "core/units.h"
#include "sidecar/identity_rule.h"

namespace tollway::sidecar {

McpDecision decide_mcp(const McpConfig& config, const tls::SpiffeId& caller, mcp::TargetKind kind,
                       std::string_view target) {
  return mcp::decide_mcp_rules(config.rules, kind, target, [&](const McpRule& rule) {
    for (const auto& pattern : rule.from)
      if (pattern.matches(caller)) return true;
    return false;
  });
}

namespace {

void read_endpoint(config::Validator& v, const YAML::Node& node, const std::vector<std::string>& peer_names,
                   McpConfig& out) {
  if (!v.check_mapping(node, "mcp.endpoint", {"path", "servers"})) return;
  McpEndpointConfig endpoint;
  v.optional_string(node, "path", "mcp.endpoint.", [&](const YAML::Node& n, const std::string& text) {
    if (!text.starts_with('/') || text.find('?') != std::string::npos || text.starts_with("/v1/") || text == "/v1")
      return v.fail(n, "mcp.endpoint.path", "a path starts with '/', has no query and is not under /v1 (LLM calls)");
    endpoint.path = text;
  });
  const YAML::Node servers = node["servers"];
  if (!servers.IsSequence() || servers.size() == 0)
    return v.fail(node, "mcp.endpoint.servers", "required: a list of {name, peer, path}");
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const std::string path = "mcp.endpoint.servers[" + std::to_string(i) + "]";
    const YAML::Node s = servers[i];
    if (!v.check_mapping(s, path, {"name", "peer", "path"})) continue;
    McpUpstream upstream;
    upstream.line = s.Mark().line + 1;
    for (const char* key : {"name", "peer"})
      if (!s[key].IsDefined()) v.fail(s, path + "." + key, "required");
    v.optional_string(s, "name", path + ".", [&](const YAML::Node& n, const std::string& text) {
      const bool valid = !text.empty() && text.size() <= 32 &&
                         text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
      if (!valid) return v.fail(n, path + ".name", "1 to 32 of a-z, 0-9 and '-' (tools are named NAME_TOOL)");
      for (const auto& other : endpoint.servers)
        if (other.name == text) return v.fail(n, path + ".name", "\"" + text + "\" is already a server's name");
      upstream.name = text;
    });
    v.optional_string(s, "peer", path + ".", [&](const YAML::Node& n, const std::string& text) {
      if (std::find(peer_names.begin(), peer_names.end(), text) == peer_names.end())
        return v.fail(n, path + ".peer", "\"" + text + "\" is not a peer of this document");
      upstream.peer = text;
    });
    v.optional_string(s, "path", path + ".", [&](const YAML::Node& n, const std::string& text) {
      if (!text.starts_with('/')) return v.fail(n, path + ".path", "a path starts with '/'");
      upstream.path = text;
    });
    endpoint.servers.push_back(std::move(upstream));
  }
  out.endpoint = std::move(endpoint);
}

}  // namespace

void read_mcp(config::Validator& v, const YAML::Node& node, const std::vector<std::string>& peer_names, McpConfig& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!v.check_mapping(node, "mcp", {"server", "paths", "rules", "max_message_bytes", "endpoint"})) return;
  if (node["endpoint"].IsDefined()) read_endpoint(v, node["endpoint"], peer_names, out);
  if (!node["server"].IsDefined()) {
    if (!out.endpoint) v.fail(node, "mcp.server", "required: the name of the MCP server this agent runs");
    for (const char* key : {"paths", "rules"})
      if (node[key].IsDefined()) v.fail(node[key], std::string("mcp.") + key, "applies to mcp.server: set it");
  }
  out.enabled = node["server"].IsDefined();
  v.optional_string(node, "server", "mcp.", [&](const YAML::Node& n, const std::string& text) {
    if (text.empty() || text.size() > 64 || text.find_first_of(" \t/") != std::string::npos)
      return v.fail(n, "mcp.server", "a server name is 1 to 64 characters without spaces or '/'");
    out.server = text;
  });
  if (node["paths"].IsDefined()) {
    out.paths = config::read_string_list(v, node["paths"], "mcp.paths");
    for (std::size_t i = 0; i < out.paths.size(); ++i)
      if (!out.paths[i].starts_with('/') || out.paths[i].find('?') != std::string::npos)
        v.fail(node["paths"][i], "mcp.paths[" + std::to_string(i) + "]", "a path starts with '/' and has no query");
    if (out.paths.empty()) v.fail(node["paths"], "mcp.paths", "must name at least one path");
  } else {
    out.paths = {"/mcp"};
  }
  v.optional_string(node, "max_message_bytes", "mcp.", [&](const YAML::Node& n, const std::string& text) {
    const auto bytes = units::parse_size(text);
    if (!bytes || *bytes < 1024 || *bytes > (64ull << 20))
      return v.fail(n, "mcp.max_message_bytes", "must be a size from 1KiB to 64MiB (e.g. 4MiB)");
    out.max_message_bytes = *bytes;
  });
  const YAML::Node rules = node["rules"];
  if (!rules.IsDefined() || rules.IsNull()) return;
  if (!rules.IsSequence()) return v.fail(rules, "mcp.rules", "must be a list of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "mcp.rules[" + std::to_string(i) + "]";
    const YAML::Node r = rules[i];
    if (!v.check_mapping(r, path, {"action", "from", "tools", "resources", "prompts", "mode"})) continue;
    McpRule rule;
    rule.line = r.Mark().line + 1;
    IdentityRuleHead head = read_identity_rule_head(v, r, path);
    rule.deny = head.deny;
    rule.audit = head.audit;
    rule.from = std::move(head.from);
    rule.targets = config::read_mcp_targets(v, r, path);
    out.rules.push_back(std::move(rule));
  }
}

}  // namespace tollway::sidecar
