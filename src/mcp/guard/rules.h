// MCP access rules, whatever role enforces them: which tools, resources and prompts a rule names (glob
// patterns), and the decision over a role's rule list — deny rules first, then allow rules; once any enforced
// allow rule exists the default is deny; `mode: audit` rules are noted, never enforced. Who a rule is `from` is
// the role's (a SPIFFE ID in a sidecar, tenant / agent / key in the gateway): the decision asks the role's
// matcher. Reading a rule is config::read_mcp_targets' (src/mcp/guard/config.h). Pure; no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/glob.h"
#include "mcp/operation.h"

namespace tollway::mcp {

// What a rule is about: glob patterns (core/glob.h) per kind; an empty list names none of that kind.
struct McpTargets {
  std::vector<std::string> tools, resources, prompts;
  // The patterns of `kind` (empty for TargetKind::None).
  const std::vector<std::string>& patterns(TargetKind kind) const;
  bool names(TargetKind kind, std::string_view target) const;
};

// A rule's parts every role shares; a role's rule type has these members and its own `from`.
struct McpRuleBase {
  bool deny = false;
  bool audit = false;
  McpTargets targets;
  int line = 0;
};

// What a caller's operation is decided as: allowed or not, the rule that decided (0: the default) and whether an
// audit rule matched on the way (logged, never enforced).
struct McpDecision {
  bool allowed = true;
  int rule_line = 0;
  int audit_line = 0;  // an audit rule that would have decided differently
};

// The decision over `rules` (each with McpRuleBase's members) for `kind` / `target`; `from(rule)` says whether
// the rule is about this caller. TargetKind::None is always allowed.
template <class Rule, class FromMatches>
McpDecision decide_mcp_rules(const std::vector<Rule>& rules, TargetKind kind, std::string_view target,
                             const FromMatches& from) {
  McpDecision d;
  if (kind == TargetKind::None) return d;
  bool any_allow = false;
  for (const bool deny_pass : {true, false}) {
    for (const Rule& rule : rules) {
      if (!rule.deny && !rule.audit) any_allow = true;
      if (rule.deny != deny_pass || !rule.targets.names(kind, target) || !from(rule)) continue;
      if (rule.audit) {
        if (d.audit_line == 0) d.audit_line = rule.line;
        continue;
      }
      return {!deny_pass, rule.line, d.audit_line};
    }
  }
  d.allowed = !any_allow;
  return d;
}

}  // namespace tollway::mcp
