// The sidecar document's `mcp:` section and the decisions its rules make; per-tool and per-skill limits
// (match.tools, match.skills).
#include "sidecar/config.h"

#include <gtest/gtest.h>

namespace tollway::sidecar {
namespace {

constexpr std::string_view kClient = "spiffe://example.org/ns/prod/sa/client";
constexpr std::string_view kOther = "spiffe://example.org/ns/dev/sa/other";

std::string document(const std::string& tail) {
  return "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/ns/prod/sa/files\n"
         "  agent: 127.0.0.1:8000\n  tls: {cert_file: b.pem, key_file: b.key, bundle_file: ca.pem}\n" + tail;
}

SidecarLoadResult parse(const std::string& yaml) {
  return parse_sidecar_config(yaml, "sidecar.yaml",
                              [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

std::string errors_of(const SidecarLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

tls::SpiffeId id(std::string_view text) { return *tls::SpiffeId::parse(text); }

TEST(SidecarMcpConfig, ReadsServerPathsAndRules) {
  const auto r = parse(document(R"(mcp:
  server: files
  paths: [/mcp, /v2/mcp]
  max_message_bytes: 64KiB
  rules:
    - {action: deny, from: ["spiffe://example.org/ns/prod/sa/*"], tools: ["delete_*"]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/client], tools: ["*"], resources: ["file:///public/*"], prompts: [review]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/client], tools: [read_file], mode: audit}
)"));
  ASSERT_TRUE(r.config) << errors_of(r);
  const McpConfig& m = r.config->mcp;
  EXPECT_TRUE(m.enabled);
  EXPECT_EQ(m.server, "files");
  EXPECT_EQ(m.paths, (std::vector<std::string>{"/mcp", "/v2/mcp"}));
  EXPECT_EQ(m.max_message_bytes, 65536u);
  ASSERT_EQ(m.rules.size(), 3u);
  EXPECT_TRUE(m.rules[0].deny);
  EXPECT_EQ(m.rules[0].line, 11);
  EXPECT_TRUE(m.rules[2].audit);
  EXPECT_EQ(parse(document("mcp: {server: files}\n")).config->mcp.paths, std::vector<std::string>{"/mcp"});
  EXPECT_FALSE(parse(document("")).config->mcp.enabled);
}

TEST(SidecarMcpConfig, DenyFirstThenAllowAndDefaultDenyOnceAnAllowExists) {
  const auto r = parse(document(R"(mcp:
  server: files
  rules:
    - {action: deny, from: ["spiffe://example.org/ns/prod/sa/*"], tools: ["delete_*"]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/client], tools: ["*"], resources: ["file:///public/*"]}
    - {action: deny, from: [spiffe://example.org/ns/prod/sa/client], tools: [read_file], mode: audit}
)"));
  ASSERT_TRUE(r.config) << errors_of(r);
  const McpConfig& m = r.config->mcp;
  auto d = decide_mcp(m, id(kClient), mcp::TargetKind::Tool, "delete_all");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_line, 9);
  d = decide_mcp(m, id(kClient), mcp::TargetKind::Tool, "read_file");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule_line, 10);
  EXPECT_EQ(d.audit_line, 11);  // logged as what the audit rule would have done
  EXPECT_TRUE(decide_mcp(m, id(kClient), mcp::TargetKind::Resource, "file:///public/a").allowed);
  EXPECT_FALSE(decide_mcp(m, id(kClient), mcp::TargetKind::Resource, "file:///etc/passwd").allowed);
  EXPECT_FALSE(decide_mcp(m, id(kClient), mcp::TargetKind::Prompt, "review").allowed);  // no rule names prompts
  d = decide_mcp(m, id(kOther), mcp::TargetKind::Tool, "read_file");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule_line, 0);  // no rule allows it: the default
  // The protocol's own methods are never refused.
  EXPECT_TRUE(decide_mcp(m, id(kOther), mcp::TargetKind::None, "").allowed);
  // Without enforced allow rules, what is not denied is allowed.
  const auto open = parse(document("mcp:\n  server: s\n  rules: [{action: deny, from: [\"spiffe://example.org/ns/dev/sa/*\"], tools: [x]}]\n"));
  ASSERT_TRUE(open.config) << errors_of(open);
  EXPECT_TRUE(decide_mcp(open.config->mcp, id(kClient), mcp::TargetKind::Tool, "x").allowed);
  EXPECT_FALSE(decide_mcp(open.config->mcp, id(kOther), mcp::TargetKind::Tool, "x").allowed);
}

TEST(SidecarMcpConfig, ErrorsNameFileLineAndKey) {
  const auto r = parse(document(R"(mcp:
  paths: [mcp]
  max_message_bytes: 1
  rules:
    - {action: permit, from: [not-an-id], tools: ["[a"]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/client]}
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/client], tools: [x], mode: loud, extra: 1}
)"));
  EXPECT_FALSE(r.config);
  const std::string e = errors_of(r);
  EXPECT_NE(e.find("sidecar.yaml:7: mcp.server: required"), std::string::npos) << e;
  EXPECT_NE(e.find("sidecar.yaml:7: mcp.paths[0]: a path starts with '/'"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.max_message_bytes: must be a size from 1KiB to 64MiB"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.rules[0].action: \"permit\" is not allow or deny"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.rules[0].from[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.rules[0].tools[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.rules[1]: a rule names tools, resources or prompts"), std::string::npos) << e;
  EXPECT_NE(e.find("mcp.rules[2].extra: unknown key"), std::string::npos) << e;
}

TEST(SidecarMcpConfig, ToolLimitsNeedTheMcpSectionAndCountRequestsToTheLocalAgent) {
  const auto ok = parse(document(R"(mcp: {server: files}
limits:
  rules:
    - {name: reads, match: {tools: ["read_*"], to: local}, per: [from, tool], limit: 5, window: 1m}
)"));
  ASSERT_TRUE(ok.config) << errors_of(ok);
  const LocalLimitRule& rule = ok.config->local_limits.rules[0];
  EXPECT_EQ(rule.named, LocalLimitRule::Named::Tools);
  EXPECT_EQ(rule.names, std::vector<std::string>{"read_*"});
  EXPECT_TRUE(rule.per_name && rule.per_from);
  const auto skills = parse(document(R"(a2a: {agent: writer}
limits:
  rules:
    - {name: summaries, match: {skills: [summarize]}, per: [skill], limit: 5, window: 1m}
    - {name: both, match: {skills: [a], tools: [b]}, limit: 5, window: 1m}
)"));
  const std::string skill_errors = errors_of(skills);
  EXPECT_NE(skill_errors.find("a rule counts tools or skills, not both"), std::string::npos) << skill_errors;
  EXPECT_EQ(skill_errors.find("rules[0]"), std::string::npos) << skill_errors;
  const auto bad = parse(document(R"(limits:
  rules:
    - {name: reads, match: {tools: ["read_*"]}, limit: 5, window: 1m}
    - {name: per-tool, per: [tool], limit: 5, window: 1m}
    - {name: per-skill, match: {skills: [s]}, limit: 5, window: 1m}
)"));
  const std::string e = errors_of(bad);
  EXPECT_NE(e.find("limits.rules[0].match.tools: counts MCP tool calls to the local agent: add mcp:"), std::string::npos) << e;
  EXPECT_NE(e.find("limits.rules[1].per: per: tool needs match.tools"), std::string::npos) << e;
  EXPECT_NE(e.find("limits.rules[2].match.skills: counts A2A messages to the local agent: add a2a:"), std::string::npos) << e;
}

}  // namespace
}  // namespace tollway::sidecar
