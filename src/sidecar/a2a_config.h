// A2aConfig: the `a2a:` section of the sidecar document — the local agent is an A2A server (JSON-RPC binding)
// at `paths` on the inbound side, named `agent` in spans and logs, and `rules` say which caller identities
// may use which of its skills (by AgentSkill id, glob patterns): deny rules first, then allow; once any
// enforced allow rule exists the default is deny; `mode: audit` rules only log. A message naming no skill
// (a2a/call.h) takes `default_skill` when set; otherwise it is decided without one, and refused whenever a
// rule that applies to the caller depends on the skill. Parsing only validates and converts, with file:line;
// it never logs a value it reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/validator.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

struct A2aRule {
  bool deny = false;
  std::vector<tls::SpiffeIdPattern> from;
  std::vector<std::string> skills;  // glob patterns (core/glob.h) on AgentSkill ids; "*" is every skill
  bool audit = false;
  int line = 0;
};

struct A2aConfig {
  bool enabled = false;  // the section is present
  std::string agent;     // this agent's name (gen_ai.agent.name)
  std::vector<std::string>
      paths;                  // inbound paths of the JSON-RPC endpoint (exact, query excluded); default ["/"]
  std::string default_skill;  // the skill of a message naming none ("" none)
  std::vector<A2aRule> rules;
  uint64_t max_message_bytes = 4 << 20;  // a request, response message or card longer than this is refused
};

// The paths the agent card is served at (A2A 0.3 and 1.0, and the older name).
inline constexpr std::string_view kAgentCardPath = "/.well-known/agent-card.json";
inline constexpr std::string_view kLegacyAgentCardPath = "/.well-known/agent.json";

// What a caller's call is decided as. `needs_skill`: refused because it names no skill and a rule that
// applies to the caller depends on which (rule_line is that rule's). `audit_line`: an audit rule that would
// have decided differently (logged, never enforced).
struct A2aDecision {
  bool allowed = true;
  bool needs_skill = false;
  int rule_line = 0;
  int audit_line = 0;
};

// The decision for `caller` sending a message for `skill` (nullopt: the message names none and there is no
// default_skill).
A2aDecision decide_a2a_skill(const A2aConfig& config, const tls::SpiffeId& caller,
                             const std::optional<std::string_view>& skill);

// The decision for `caller` on a method that sends no message (tasks, push configs, the extended card):
// allowed when no enforced deny rule for every skill ("*") applies to it and, once enforced allow rules
// exist, one of them applies to it (for any skill) — a caller that may use some skill may follow its tasks.
A2aDecision decide_a2a_identity(const A2aConfig& config, const tls::SpiffeId& caller);

// Reads `a2a:` (absent or null: disabled).
void read_a2a(config::Validator& v, const YAML::Node& node, A2aConfig& out);

}  // namespace tollway::sidecar
