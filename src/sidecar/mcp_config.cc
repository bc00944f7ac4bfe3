#include "sidecar/mcp_config.h"

#include "config/auth_section.h"
#include "core/glob.h"
#include "core/units.h"

namespace tollway::sidecar {
namespace {

bool rule_matches(const McpRule& rule, const tls::SpiffeId& caller, mcp::TargetKind kind, std::string_view target) {
  bool from = false;
  for (const auto& pattern : rule.from) from = from || pattern.matches(caller);
  if (!from) return false;
  for (const auto& pattern : rule.patterns(kind))
    if (glob_match(pattern, target)) return true;
  return false;
}

std::vector<std::string> read_patterns(config::Validator& v, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> patterns = config::read_string_list(v, node, path);
  for (std::size_t i = 0; i < patterns.size(); ++i)
    if (const auto why = glob_syntax_error(patterns[i]); !why.empty())
      v.fail(node[i], path + "[" + std::to_string(i) + "]", "\"" + patterns[i] + "\": " + std::string(why));
  return patterns;
}

}  // namespace

const std::vector<std::string>& McpRule::patterns(mcp::TargetKind kind) const {
  static const std::vector<std::string> kNone;
  switch (kind) {
    case mcp::TargetKind::Tool: return tools;
    case mcp::TargetKind::Resource: return resources;
    case mcp::TargetKind::Prompt: return prompts;
    case mcp::TargetKind::None: break;
  }
  return kNone;
}

McpDecision decide_mcp(const McpConfig& config, const tls::SpiffeId& caller, mcp::TargetKind kind,
                       std::string_view target) {
  McpDecision d;
  if (kind == mcp::TargetKind::None) return d;
  bool any_allow = false;
  for (const auto& rule : config.rules) {
    if (!rule.deny && !rule.audit) any_allow = true;
    if (!rule.deny || !rule_matches(rule, caller, kind, target)) continue;
    if (rule.audit) {
      if (d.audit_line == 0) d.audit_line = rule.line;
      continue;
    }
    return {false, rule.line, d.audit_line};
  }
  for (const auto& rule : config.rules) {
    if (rule.deny || !rule_matches(rule, caller, kind, target)) continue;
    if (rule.audit) {
      if (d.audit_line == 0) d.audit_line = rule.line;
      continue;
    }
    return {true, rule.line, d.audit_line};
  }
  d.allowed = !any_allow;
  return d;
}

void read_mcp(config::Validator& v, const YAML::Node& node, McpConfig& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!v.check_mapping(node, "mcp", {"server", "paths", "rules", "max_message_bytes"})) return;
  out.enabled = true;
  if (!node["server"].IsDefined()) v.fail(node, "mcp.server", "required: the name of the MCP server this agent runs");
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
    if (!r["action"].IsDefined()) v.fail(r, path + ".action", "required: allow or deny");
    v.optional_string(r, "action", path + ".", [&](const YAML::Node& n, const std::string& text) {
      if (text == "deny") rule.deny = true;
      else if (text != "allow") v.fail(n, path + ".action", "\"" + text + "\" is not allow or deny");
    });
    v.optional_string(r, "mode", path + ".", [&](const YAML::Node& n, const std::string& text) {
      if (text == "audit") rule.audit = true;
      else if (text != "enforce") v.fail(n, path + ".mode", "\"" + text + "\" is not enforce or audit");
    });
    const std::vector<std::string> from = config::read_string_list(v, r["from"], path + ".from");
    if (from.empty()) v.fail(r, path + ".from", "required: the SPIFFE IDs (or patterns) the rule is about");
    for (std::size_t j = 0; j < from.size(); ++j) {
      std::string why;
      if (auto pattern = tls::SpiffeIdPattern::parse(from[j], &why))
        rule.from.push_back(std::move(*pattern));
      else
        v.fail(r["from"][j], path + ".from[" + std::to_string(j) + "]", "\"" + from[j] + "\": " + why);
    }
    rule.tools = read_patterns(v, r["tools"], path + ".tools");
    rule.resources = read_patterns(v, r["resources"], path + ".resources");
    rule.prompts = read_patterns(v, r["prompts"], path + ".prompts");
    if (rule.tools.empty() && rule.resources.empty() && rule.prompts.empty())
      v.fail(r, path, "a rule names tools, resources or prompts (glob patterns; \"*\" for all)");
    out.rules.push_back(std::move(rule));
  }
}

}  // namespace tollway::sidecar
