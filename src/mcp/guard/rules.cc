#include "mcp/guard/rules.h"

namespace tollway::mcp {

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

}  // namespace tollway::mcp
