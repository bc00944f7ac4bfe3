#include "sidecar/a2a_config.h"

#include "sidecar/identity_rule.h"

#include "auth/config.h"
#include "core/glob.h"
#include "core/units.h"

namespace tollway::sidecar {
namespace {

bool from_matches(const A2aRule& rule, const tls::SpiffeId& caller) {
  for (const auto& pattern : rule.from)
    if (pattern.matches(caller)) return true;
  return false;
}

bool skill_matches(const A2aRule& rule, std::string_view skill) {
  for (const auto& pattern : rule.skills)
    if (glob_match(pattern, skill)) return true;
  return false;
}

// The rule is about every skill: its decision does not depend on which one a message names.
bool covers_every_skill(const A2aRule& rule) {
  for (const auto& pattern : rule.skills)
    if (pattern == "*") return true;
  return false;
}

bool any_enforced_allow(const A2aConfig& config) {
  for (const auto& rule : config.rules)
    if (!rule.deny && !rule.audit) return true;
  return false;
}

std::vector<std::string> read_patterns(config::Validator& v, const YAML::Node& node,
                                       const std::string& path) {
  std::vector<std::string> patterns = config::read_string_list(v, node, path);
  for (std::size_t i = 0; i < patterns.size(); ++i)
    if (const auto why = glob_syntax_error(patterns[i]); !why.empty())
      v.fail(node[i], path + "[" + std::to_string(i) + "]", "\"" + patterns[i] + "\": " + std::string(why));
  return patterns;
}

A2aDecision decide_named(const A2aConfig& config, const tls::SpiffeId& caller, std::string_view skill) {
  A2aDecision d;
  for (const bool deny : {true, false}) {
    for (const auto& rule : config.rules) {
      if (rule.deny != deny || !from_matches(rule, caller) || !skill_matches(rule, skill)) continue;
      if (rule.audit) {
        if (d.audit_line == 0) d.audit_line = rule.line;
        continue;
      }
      d.allowed = !deny;
      d.rule_line = rule.line;
      return d;
    }
  }
  d.allowed = !any_enforced_allow(config);
  return d;
}

// No skill named: decided only when no rule that applies to the caller depends on the skill.
A2aDecision decide_unnamed(const A2aConfig& config, const tls::SpiffeId& caller) {
  A2aDecision d;
  for (const bool deny : {true, false}) {
    int depends = 0;  // the first applying rule whose decision depends on the skill
    for (const auto& rule : config.rules) {
      if (rule.deny != deny || rule.audit || !from_matches(rule, caller)) continue;
      if (covers_every_skill(rule)) {
        d.allowed = !deny;
        d.rule_line = rule.line;
        return d;
      }
      if (depends == 0) depends = rule.line;
    }
    if (depends != 0) return {false, true, depends, 0};
  }
  d.allowed = !any_enforced_allow(config);
  return d;
}

}  // namespace

A2aDecision decide_a2a_skill(const A2aConfig& config, const tls::SpiffeId& caller,
                             const std::optional<std::string_view>& skill) {
  if (skill) return decide_named(config, caller, *skill);
  if (!config.default_skill.empty()) return decide_named(config, caller, config.default_skill);
  return decide_unnamed(config, caller);
}

A2aDecision decide_a2a_identity(const A2aConfig& config, const tls::SpiffeId& caller) {
  A2aDecision d;
  for (const auto& rule : config.rules)
    if (rule.deny && !rule.audit && covers_every_skill(rule) && from_matches(rule, caller))
      return {false, false, rule.line, 0};
  for (const auto& rule : config.rules)
    if (!rule.deny && !rule.audit && from_matches(rule, caller)) return {true, false, rule.line, 0};
  d.allowed = !any_enforced_allow(config);
  return d;
}

void read_a2a(config::Validator& v, const YAML::Node& node, A2aConfig& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!v.check_mapping(node, "a2a", {"agent", "paths", "default_skill", "rules", "max_message_bytes"}))
    return;
  out.enabled = true;
  if (!node["agent"].IsDefined())
    v.fail(node, "a2a.agent", "required: the name of the A2A agent this sidecar fronts");
  v.optional_string(node, "agent", "a2a.", [&](const YAML::Node& n, const std::string& text) {
    if (text.empty() || text.size() > 64 || text.find_first_of(" \t/") != std::string::npos)
      return v.fail(n, "a2a.agent", "an agent name is 1 to 64 characters without spaces or '/'");
    out.agent = text;
  });
  if (node["paths"].IsDefined()) {
    out.paths = config::read_string_list(v, node["paths"], "a2a.paths");
    for (std::size_t i = 0; i < out.paths.size(); ++i) {
      const std::string& p = out.paths[i];
      if (!p.starts_with('/') || p.find('?') != std::string::npos)
        v.fail(node["paths"][i], "a2a.paths[" + std::to_string(i) + "]",
               "a path starts with '/' and has no query");
      else if (p == kAgentCardPath || p == kLegacyAgentCardPath)
        v.fail(node["paths"][i], "a2a.paths[" + std::to_string(i) + "]",
               "the agent card's path is not a JSON-RPC path");
    }
    if (out.paths.empty()) v.fail(node["paths"], "a2a.paths", "must name at least one path");
  } else {
    out.paths = {"/"};
  }
  v.optional_string(node, "default_skill", "a2a.", [&](const YAML::Node& n, const std::string& text) {
    if (text.empty()) return v.fail(n, "a2a.default_skill", "must name a skill id");
    out.default_skill = text;
  });
  v.optional_string(node, "max_message_bytes", "a2a.", [&](const YAML::Node& n, const std::string& text) {
    const auto bytes = units::parse_size(text);
    if (!bytes || *bytes < 1024 || *bytes > (64ull << 20))
      return v.fail(n, "a2a.max_message_bytes", "must be a size from 1KiB to 64MiB (e.g. 4MiB)");
    out.max_message_bytes = *bytes;
  });
  const YAML::Node rules = node["rules"];
  if (!rules.IsDefined() || rules.IsNull()) return;
  if (!rules.IsSequence()) return v.fail(rules, "a2a.rules", "must be a list of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "a2a.rules[" + std::to_string(i) + "]";
    const YAML::Node r = rules[i];
    if (!v.check_mapping(r, path, {"action", "from", "skills", "mode"})) continue;
    A2aRule rule;
    rule.line = r.Mark().line + 1;
    IdentityRuleHead head = read_identity_rule_head(v, r, path);
    rule.deny = head.deny;
    rule.audit = head.audit;
    rule.from = std::move(head.from);
    rule.skills = read_patterns(v, r["skills"], path + ".skills");
    if (rule.skills.empty())
      v.fail(r, path + ".skills", "required: the skill ids (glob patterns; \"*\" for all)");
    out.rules.push_back(std::move(rule));
  }
}

}  // namespace tollway::sidecar
