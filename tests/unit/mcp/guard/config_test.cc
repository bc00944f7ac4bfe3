// The gateway's `mcp:` section: servers read with their URL, headers and rules; every mistake named with its key
// path; `auth` required; the decision over the rules as the gateway's policy uses it (deny first, default deny once
// an allow exists, audit never decides).
#include "mcp/guard/config.h"

#include <gtest/gtest.h>

#include "../../config_text.h"

#include "config/loader.h"

namespace tollway::config {
namespace {

using test_text::all_errors;

LoadResult parse(const std::string& mcp, const std::string& auth = "auth: {}\n") {
  const std::string text = "version: 1\nproviders:\n  p: {api: openai, base_url: https://example.test}\n"
                           "routes:\n  - {path: /openai/chat, api: openai, provider: p}\n" + auth + mcp;
  return parse_gateway_config(text, "test.yaml", [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
}

TEST(McpSection, ReadsServersWithTheirUrlHeadersAndRules) {
  auto r = parse(R"(mcp:
  servers:
    - name: tools
      path: /mcp/tools
      url: https://tools.internal:8443/v2/mcp
      headers: {authorization: "Bearer s3cret"}
      max_message_bytes: 1MiB
      rules:
        - {action: deny, from: {agents: [planner]}, tools: ["delete_*"]}
        - {action: allow, mode: audit, from: {tenants: [acme], keys: ["vk_*"]}, prompts: ["*"]}
      limits:
        - {name: searches, tools: ["search_*"], per: [tool, key], limit: 30, window: 1m}
)");
  ASSERT_TRUE(r.config) << all_errors(r);
  ASSERT_EQ(r.config->mcp.servers.size(), 1u);
  const McpServerConfig& s = r.config->mcp.servers[0];
  EXPECT_EQ(s.name, "tools");
  EXPECT_EQ(s.path, "/mcp/tools");
  EXPECT_TRUE(s.endpoint.tls);
  EXPECT_EQ(s.endpoint.host, "tools.internal");
  EXPECT_EQ(s.endpoint.port, 8443);
  EXPECT_EQ(s.endpoint.path_prefix, "/v2/mcp");
  ASSERT_EQ(s.headers.size(), 1u);
  EXPECT_EQ(s.headers[0].second, "Bearer s3cret");
  EXPECT_EQ(s.max_message_bytes, 1u << 20);
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_TRUE(s.rules[0].deny);
  EXPECT_EQ(s.rules[0].from.agents, std::vector<std::string>{"planner"});
  EXPECT_TRUE(s.rules[1].audit);
  EXPECT_EQ(s.rules[1].line, 16);
  ASSERT_EQ(s.limits.size(), 1u);
  EXPECT_EQ(s.limits[0].name, "searches");
  EXPECT_TRUE(s.limits[0].per_tool && s.limits[0].per_key && !s.limits[0].per_tenant && !s.limits[0].per_agent);
  EXPECT_EQ(s.limits[0].limit, 30);
  EXPECT_EQ(s.limits[0].window, std::chrono::minutes(1));
}

TEST(McpSection, NamesEveryMistakeWithItsKeyPath) {
  auto r = parse(R"(mcp:
  servers:
    - {name: tools, path: /openai/chat, url: "http://a/mcp"}
    - name: Tools
      path: /v1/mcp
      url: ftp://x
      ca_file: /ca.pem
      headers: {host: x, "bad header": y}
      max_message_bytes: 10
      rules:
        - {action: permit, mode: loud, from: {teams: [a]}}
      limits:
        - {name: "bad name!", tools: ["x"], per: [user], limit: 0, window: 2y}
    - {name: tools, path: /mcp}
)");
  const std::string e = all_errors(r);
  for (const char* expected :
       {"mcp.servers[0].path: \"/openai/chat\" is already a route's path",
        "mcp.servers[1].name: 1 to 32 of a-z", "mcp.servers[1].path: a path starts with '/'",
        "mcp.servers[1].url: \"ftp://x\" must start with http:// or https://",
        "mcp.servers[1].ca_file: only meaningful with an https:// url", "mcp.servers[1].headers.host: not a header",
        "mcp.servers[1].headers.bad header: not a header", "mcp.servers[1].max_message_bytes: must be a size",
        "mcp.servers[1].rules[0].action: \"permit\" is not allow or deny",
        "mcp.servers[1].rules[0].mode: \"loud\" is not enforce or audit", "mcp.servers[1].rules[0].from.teams",
        "mcp.servers[1].rules[0]: a rule names tools, resources or prompts",
        "mcp.servers[1].limits[0].name: \"bad name!\" is not a name",
        "mcp.servers[1].limits[0].per: \"user\" is not tool, tenant, agent or key",
        "mcp.servers[1].limits[0].limit: \"0\" is not a whole number", "mcp.servers[1].limits[0].window: \"2y\"",
        "mcp.servers[2].name: \"tools\" is already a server's name", "mcp.servers[2].url: required"})
    EXPECT_NE(e.find(expected), std::string::npos) << expected << "\n" << e;
}

TEST(McpSection, NeedsAuth) {
  auto r = parse("mcp:\n  servers:\n    - {name: tools, path: /mcp, url: \"http://127.0.0.1:9/mcp\"}\n", "");
  EXPECT_NE(all_errors(r).find("mcp: needs auth"), std::string::npos) << all_errors(r);
}

TEST(McpSection, DecisionDeniesFirstAndDefaultsToDenyOnceAnAllowExists) {
  auto r = parse(R"(mcp:
  servers:
    - name: tools
      path: /mcp
      url: http://127.0.0.1:9/mcp
      rules:
        - {action: deny, from: {agents: [planner]}, tools: ["search_web"]}
        - {action: allow, from: {tenants: [acme]}, tools: ["search_*"]}
        - {action: allow, mode: audit, tools: ["delete_*"]}
)");
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& rules = r.config->mcp.servers[0].rules;
  const auto decide = [&](std::string_view tenant, std::string_view agent, std::string_view tool) {
    return mcp::decide_mcp_rules(rules, mcp::TargetKind::Tool, tool, [&](const GatewayMcpRule& rule) {
      const auto listed = [](const std::vector<std::string>& patterns, std::string_view value) {
        if (patterns.empty()) return true;
        for (const auto& p : patterns)
          if (p == value) return true;
        return false;
      };
      return listed(rule.from.tenants, tenant) && listed(rule.from.agents, agent);
    });
  };
  EXPECT_TRUE(decide("acme", "writer", "search_web").allowed);
  const auto denied = decide("acme", "planner", "search_web");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.rule_line, 13);  // the document's line (6 lines come before mcp:)
  EXPECT_FALSE(decide("globex", "writer", "search_docs").allowed);  // an allow exists: default deny
  const auto audited = decide("acme", "writer", "delete_repo");
  EXPECT_FALSE(audited.allowed);
  EXPECT_EQ(audited.audit_line, 15);
  EXPECT_TRUE(mcp::decide_mcp_rules(rules, mcp::TargetKind::None, "", [](const GatewayMcpRule&) { return true; }).allowed);
}

}  // namespace
}  // namespace tollway::config
