#include "mcp/guard/rules.h"

#include "config/auth_section.h"

namespace tollway::mcp {
namespace {

std::vector<std::string> read_patterns(config::Validator& v, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> patterns = config::read_string_list(v, node, path);
  for (std::size_t i = 0; i < patterns.size(); ++i)
    if (const auto why = glob_syntax_error(patterns[i]); !why.empty())
      v.fail(node[i], path + "[" + std::to_string(i) + "]", "\"" + patterns[i] + "\": " + std::string(why));
  return patterns;
}

}  // namespace

const std::vector<std::string>& McpTargets::patterns(TargetKind kind) const {
  static const std::vector<std::string> kNone;
  switch (kind) {
    case TargetKind::Tool: return tools;
    case TargetKind::Resource: return resources;
    case TargetKind::Prompt: return prompts;
    case TargetKind::None: break;
  }
  return kNone;
}

bool McpTargets::names(TargetKind kind, std::string_view target) const {
  for (const auto& pattern : patterns(kind))
    if (glob_match(pattern, target)) return true;
  return false;
}

McpTargets read_mcp_targets(config::Validator& v, const YAML::Node& r, const std::string& path) {
  McpTargets t;
  t.tools = read_patterns(v, r["tools"], path + ".tools");
  t.resources = read_patterns(v, r["resources"], path + ".resources");
  t.prompts = read_patterns(v, r["prompts"], path + ".prompts");
  if (t.tools.empty() && t.resources.empty() && t.prompts.empty())
    v.fail(r, path, "a rule names tools, resources or prompts (glob patterns; \"*\" for all)");
  return t;
}

}  // namespace tollway::mcp
