#include "sidecar/a2a_config.h"

#include <gtest/gtest.h>

#include "sidecar/config.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

const std::string kHead =
    "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/ns/prod/sa/writer\n"
    "  agent: 127.0.0.1:8000\n  tls: {cert_file: a, key_file: b, bundle_file: c}\n";
const std::string kA = "spiffe://example.org/ns/prod/sa/agent-a";
const std::string kB = "spiffe://example.org/ns/prod/sa/agent-b";

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

SidecarLoadResult parse(const std::string& a2a) {
  return parse_sidecar_config(kHead + a2a, "sidecar.yaml", no_env());
}

std::string errors_of(const SidecarLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

A2aConfig config_of(const std::string& a2a) {
  const auto r = parse(a2a);
  EXPECT_TRUE(r.config) << errors_of(r);
  return r.config ? r.config->a2a : A2aConfig{};
}

tls::SpiffeId id(const std::string& text) {
  return *tls::SpiffeId::parse(text);
}

TEST(A2aConfig, ReadsTheSection) {
  const A2aConfig c = config_of(R"(a2a:
  agent: writer
  default_skill: summarize
  max_message_bytes: 64KiB
  rules:
    - {action: allow, from: ["spiffe://example.org/ns/prod/sa/*"], skills: [summarize, "translate_*"]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-b], skills: ["*"], mode: audit}
)");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.agent, "writer");
  EXPECT_EQ(c.paths, std::vector<std::string>{"/"});  // the default
  EXPECT_EQ(c.default_skill, "summarize");
  EXPECT_EQ(c.max_message_bytes, 64u * 1024);
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_FALSE(c.rules[0].deny);
  EXPECT_EQ(c.rules[0].line, 11);  // the document's line (after the 5-line head)
  EXPECT_TRUE(c.rules[1].deny);
  EXPECT_TRUE(c.rules[1].audit);
  EXPECT_FALSE(config_of("").enabled);
}

TEST(A2aConfig, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"a2a: {}\n", "a2a.agent: required"},
           {"a2a: {agent: \"a b\"}\n", "a2a.agent"},
           {"a2a: {agent: w, paths: [rpc]}\n", "a2a.paths[0]"},
           {"a2a: {agent: w, paths: [/.well-known/agent-card.json]}\n", "not a JSON-RPC path"},
           {"a2a: {agent: w, paths: []}\n", "a2a.paths"},
           {"a2a: {agent: w, max_message_bytes: 1B}\n", "a2a.max_message_bytes"},
           {"a2a: {agent: w, skills: [x]}\n", "skills"},
           {"a2a:\n  agent: w\n  rules:\n    - {action: permit, from: [spiffe://example.org/a], skills: "
            "[x]}\n",
            "sidecar.yaml:9: a2a.rules[0].action"},
           {"a2a:\n  agent: w\n  rules:\n    - {action: allow, skills: [x]}\n",
            "a2a.rules[0].from: required"},
           {"a2a:\n  agent: w\n  rules:\n    - {action: allow, from: [spiffe://example.org/a]}\n",
            "a2a.rules[0].skills: required"},
           {"a2a:\n  agent: w\n  rules:\n    - {action: allow, from: [spiffe://example.org/a], skills: "
            "[\"[a\"]}\n",
            "a2a.rules[0].skills[0]"},
           {"a2a:\n  agent: w\n  rules:\n    - {action: allow, from: [spiffe://example.org/a], skills: [x], "
            "mode: dry}\n",
            "a2a.rules[0].mode"},
           {"mcp: {server: s, paths: [/rpc]}\na2a: {agent: w, paths: [/rpc]}\n", "also an MCP path"},
       }) {
    const auto r = parse(c.yaml);
    EXPECT_FALSE(r.config) << c.yaml;
    EXPECT_NE(errors_of(r).find(c.expected), std::string::npos) << c.yaml << " -> " << errors_of(r);
  }
}

TEST(A2aConfig, DenyFirstThenAllowThenDefaultDeny) {
  const A2aConfig c = config_of(R"(a2a:
  agent: writer
  rules:
    - {action: allow, from: ["spiffe://example.org/ns/prod/sa/*"], skills: ["summarize", "admin_*"]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-a], skills: ["admin_*"]}
)");
  const auto decide = [&](const std::string& caller, std::string_view skill) {
    return decide_a2a_skill(c, id(caller), skill);
  };
  EXPECT_TRUE(decide(kA, "summarize").allowed);
  EXPECT_EQ(decide(kA, "summarize").rule_line, 9);
  EXPECT_FALSE(decide(kA, "admin_reset").allowed);  // the deny comes first
  EXPECT_EQ(decide(kA, "admin_reset").rule_line, 10);
  EXPECT_TRUE(decide(kB, "admin_reset").allowed);
  const A2aDecision none = decide(kA, "translate");  // no rule: an enforced allow exists, so deny
  EXPECT_FALSE(none.allowed);
  EXPECT_EQ(none.rule_line, 0);
  EXPECT_FALSE(decide("spiffe://example.org/ns/dev/sa/x", "summarize").allowed);
}

TEST(A2aConfig, WithoutEnforcedAllowRulesEverythingIsAllowedAndAuditOnlyLogs) {
  const A2aConfig c = config_of(R"(a2a:
  agent: writer
  rules:
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-a], skills: [summarize], mode: audit}
)");
  const A2aDecision d = decide_a2a_skill(c, id(kA), std::string_view("summarize"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.audit_line, 9);
  EXPECT_TRUE(decide_a2a_skill(c, id(kA), std::nullopt).allowed);
  EXPECT_TRUE(decide_a2a_identity(c, id(kA)).allowed);
}

TEST(A2aConfig, AMessageNamingNoSkillIsDecidedOnlyWhenTheRulesDoNotDependOnIt) {
  const A2aConfig c = config_of(R"(a2a:
  agent: writer
  rules:
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/agent-a], skills: [summarize]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/agent-b], skills: ["*"]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-c], skills: ["*"]}
)");
  const A2aDecision a = decide_a2a_skill(c, id(kA), std::nullopt);
  EXPECT_FALSE(a.allowed);
  EXPECT_TRUE(a.needs_skill);
  EXPECT_EQ(a.rule_line, 9);
  EXPECT_TRUE(decide_a2a_skill(c, id(kB), std::nullopt).allowed);  // every skill: no need to know which
  const A2aDecision other = decide_a2a_skill(c, id("spiffe://example.org/ns/prod/sa/agent-c"), std::nullopt);
  EXPECT_FALSE(other.allowed);
  EXPECT_FALSE(other.needs_skill);  // denied whatever the skill
  EXPECT_FALSE(decide_a2a_skill(c, id("spiffe://example.org/ns/prod/sa/agent-d"), std::nullopt).needs_skill);

  // default_skill stands for the missing one.
  const A2aConfig d = config_of(R"(a2a:
  agent: writer
  default_skill: summarize
  rules:
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/agent-a], skills: [summarize]}
)");
  EXPECT_TRUE(decide_a2a_skill(d, id(kA), std::nullopt).allowed);
  EXPECT_FALSE(decide_a2a_skill(d, id(kB), std::nullopt).allowed);
}

TEST(A2aConfig, MethodsWithoutAMessageAreDecidedByIdentity) {
  const A2aConfig c = config_of(R"(a2a:
  agent: writer
  rules:
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/agent-a], skills: [summarize]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/agent-b], skills: ["*"]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-b], skills: ["*"]}
)");
  EXPECT_TRUE(decide_a2a_identity(c, id(kA)).allowed);   // may use a skill: may follow its tasks
  EXPECT_FALSE(decide_a2a_identity(c, id(kB)).allowed);  // denied every skill
  EXPECT_EQ(decide_a2a_identity(c, id(kB)).rule_line, 11);
  EXPECT_FALSE(decide_a2a_identity(c, id("spiffe://example.org/ns/prod/sa/agent-d")).allowed);
}

}  // namespace
}  // namespace tollway::sidecar
