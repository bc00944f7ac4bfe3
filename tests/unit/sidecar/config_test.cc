#include "sidecar/config.h"

#include <gtest/gtest.h>

namespace tollway::sidecar {
namespace {

const char* kValid = R"(version: 1
sidecar:
  spiffe_id: spiffe://example.org/ns/prod/sa/agent-b
  inbound: 127.0.0.1:0
  agent: 127.0.0.1:8000
  tls: {cert_file: b.pem, key_file: b.key, bundle_file: bundle.pem}
peers:
  agent-c: {address: 127.0.0.1:15016, spiffe_id: spiffe://example.org/ns/prod/sa/agent-c}
authorization:
  - {action: deny, from: [spiffe://example.org/ns/prod/sa/agent-x]}
  - {action: allow, from: ["spiffe://example.org/ns/prod/sa/*"], methods: [POST], paths: [/tasks], mode: audit}
)";

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string errors_of(const SidecarLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(SidecarConfig, ReadsAValidDocument) {
  const auto r = parse_sidecar_config(kValid, "sidecar.yaml", no_env());
  ASSERT_TRUE(r.config) << errors_of(r);
  const SidecarConfig& c = *r.config;
  EXPECT_EQ(c.trust_domain, "example.org");
  EXPECT_EQ(c.outbound.to_string(), "127.0.0.1:15001");  // the default
  EXPECT_EQ(c.agent.port, 8000);
  EXPECT_EQ(c.workers, 1);
  ASSERT_NE(c.find_peer("agent-c"), nullptr);
  EXPECT_EQ(c.find_peer("agent-c")->spiffe_id, "spiffe://example.org/ns/prod/sa/agent-c");
  EXPECT_EQ(c.find_peer("agent-d"), nullptr);
  EXPECT_EQ(c.find_peer("Agent-C"), c.find_peer("agent-c"));  // host names compare case-insensitively
  ASSERT_EQ(c.authorization.size(), 2u);
  EXPECT_EQ(c.authorization[0].action, AuthorizationRule::Action::Deny);
  EXPECT_TRUE(c.authorization[1].audit);
  EXPECT_EQ(c.authorization[1].path_prefixes, std::vector<std::string>{"/tasks"});
}

TEST(SidecarConfig, AKeyThatIsNotAStringIsAnErrorAtItsLine) {
  const auto r = parse_sidecar_config("version: 1\n{[a]: 1}: 2\n", "sidecar.yaml", no_env());
  ASSERT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("sidecar.yaml:2: a key must be a plain string"), std::string::npos) << errors_of(r);
}

TEST(SidecarConfig, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::string head = "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/a\n  agent: 127.0.0.1:8000\n"
                           "  tls: {cert_file: a, key_file: b, bundle_file: c}\n";
  for (const Case& c : std::vector<Case>{
           {"version: 1\n", "sidecar: required"},
           {"version: 1\nsidecar:\n  spiffe_id: spiffe://Example.org/a\n  agent: 127.0.0.1:8000\n"
            "  tls: {cert_file: a, key_file: b, bundle_file: c}\n",
            "sidecar.spiffe_id"},
           {"version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/a\n  agent: 127.0.0.1:8000\n",
            "sidecar.tls: required"},
           {head + "peers:\n  agent-c: {address: 127.0.0.1:1, spiffe_id: spiffe://other.org/c}\n",
            "sidecar.yaml:7: peers.agent-c.spiffe_id: is not in this sidecar's trust domain"},
           {head + "peers:\n  agent-c:9: {address: 127.0.0.1:1, spiffe_id: spiffe://example.org/c}\n",
            "peers.agent-c:9: a peer name is a host name"},
           {head + "authorization:\n  - {action: permit, from: [spiffe://example.org/a]}\n",
            "authorization[0].action: \"permit\" is not allow or deny"},
           {head + "authorization:\n  - {action: allow, from: [\"spiffe://example.org/a*\"]}\n",
            "authorization[0].from[0]"},
           {head + "authorization:\n  - {action: allow, from: [\"spiffe://*.org/a\"]}\n", "from[0]"},
           {head + "authorization:\n  - {action: allow}\n", "from: required"},
           {head + "extra: 1\n", "extra: unknown key"},
           {head + "peers:\n  gateway: {address: 127.0.0.1:1, spiffe_id: spiffe://example.org/g}\n",
            "peers.gateway: \"gateway\" is reserved"},
           {head + "egress:\n  allow: [api.example.com]\n", "sidecar.yaml:7: egress.allow[0]: \"api.example.com\" names no port"},
           {head + "egress:\n  allow: [\"*:443\"]\n", "egress.allow[0]: \"*:443\" is not HOST:PORT"},
           {head + "egress:\n  allow: [\"*.com:443\"]\n", "a wildcard covers the names under a domain name of two"},
           {head + "egress:\n  allow: [\"api.*.com:443\"]\n", "egress.allow[0]"},
           {head + "egress:\n  allow: [\"user@host:443\"]\n", "userinfo"},
           {head + "egress:\n  deny: [x]\n", "egress.deny: unknown key"},
       }) {
    const auto r = parse_sidecar_config(c.yaml, "sidecar.yaml", no_env());
    EXPECT_FALSE(r.config) << c.yaml;
    EXPECT_NE(errors_of(r).find(c.expected), std::string::npos) << c.yaml << "\n-> " << errors_of(r);
  }
}

TEST(SidecarConfig, PeerNamesDifferingOnlyInCaseAreOnePeer) {
  const std::string yaml = "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/ns/prod/sa/agent-b\n"
                           "  agent: 127.0.0.1:8000\n  tls: {cert_file: b.pem, key_file: b.key, bundle_file: c.pem}\n"
                           "peers:\n  agent-c: {address: 127.0.0.1:15016, spiffe_id: spiffe://example.org/a}\n"
                           "  Agent-C: {address: 127.0.0.1:15017, spiffe_id: spiffe://example.org/b}\n";
  const auto r = parse_sidecar_config(yaml, "sidecar.yaml", no_env());
  EXPECT_FALSE(r.config);
  EXPECT_NE(errors_of(r).find("sidecar.yaml:8: peers.Agent-C: duplicate peer"), std::string::npos) << errors_of(r);
}

TEST(SidecarConfig, EgressAllowsExactHostsAndNamesUnderAWildcardSuffix) {
  const std::string doc = std::string(kValid) +
                          "egress:\n  allow: [Api.GitHub.com:443, \"*.googleapis.com:443\", \"10.0.0.5:8443\", "
                          "\"[::1]:9000\"]\n";
  const auto r = parse_sidecar_config(doc, "sidecar.yaml", no_env());
  ASSERT_TRUE(r.config) << errors_of(r);
  const SidecarConfig& c = *r.config;
  ASSERT_EQ(c.egress_allow.size(), 4u);
  EXPECT_EQ(c.egress_allow[0].line, 13);
  EXPECT_NE(c.find_egress("api.github.com", 443), nullptr);
  EXPECT_EQ(c.find_egress("api.github.com", 80), nullptr);
  EXPECT_EQ(c.find_egress("github.com", 443), nullptr);
  EXPECT_NE(c.find_egress("storage.googleapis.com", 443), nullptr);
  EXPECT_NE(c.find_egress("a.b.googleapis.com", 443), nullptr);
  EXPECT_EQ(c.find_egress("googleapis.com", 443), nullptr);       // the suffix itself is not under it
  EXPECT_EQ(c.find_egress("evilgoogleapis.com", 443), nullptr);   // a label boundary, not a string suffix
  EXPECT_NE(c.find_egress("10.0.0.5", 8443), nullptr);
  EXPECT_NE(c.find_egress("::1", 9000), nullptr);
  EXPECT_EQ(parse_sidecar_config(kValid, "sidecar.yaml", no_env()).config->find_egress("api.github.com", 443),
            nullptr);  // no egress section: every CONNECT is refused
}

}  // namespace
}  // namespace tollway::sidecar
