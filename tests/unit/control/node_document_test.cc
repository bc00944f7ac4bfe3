#include "control/node_document.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config/loader.h"
#include "control/policy_check.h"
#include "policy_fixture.h"

namespace tollway::control {
namespace {

using testing::joined;
using testing::PolicyDir;

TEST(NodeDocument, SharedSectionsWithTheGroupsReplacements) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", testing::kProviders);
  d.write("nodes.yaml", testing::kNodes);
  d.write("groups/zone-a.yaml",
          "selector:\n  zone: a\nsections:\n  models:\n    - match: \"o*\"\n      provider: openai\n  telemetry: {}\n");
  auto load = load_policy_directory(d.path());
  ASSERT_TRUE(load.policy) << joined(load.errors);
  const NodeDocument a = build_node_document(*load.policy, load.policy->nodes[0]);
  const NodeDocument b = build_node_document(*load.policy, load.policy->nodes[1]);
  EXPECT_EQ(a.group, "zone-a");
  EXPECT_NE(a.bytes.find("models:\n  - match: \"o*\"\n"), std::string::npos) << a.bytes;
  EXPECT_EQ(a.bytes.find("gpt-*"), std::string::npos) << a.bytes;
  EXPECT_NE(a.bytes.find("\ntelemetry: {}\n"), std::string::npos) << a.bytes;
  EXPECT_NE(b.bytes.find("gpt-*"), std::string::npos) << b.bytes;
  // The document's own version: what a gateway reports in its ACKs and as source_version at /config.
  EXPECT_EQ(a.version, config::document_version(a.bytes));
  EXPECT_NE(a.version, b.version);
  // The first line names the node, not the policy: a change the node does not receive leaves its version.
  d.write("nodes.yaml", std::string(testing::kNodes) + "# touched\n");
  auto reloaded = load_policy_directory(d.path());
  ASSERT_TRUE(reloaded.policy);
  EXPECT_NE(reloaded.policy->content_hash, load.policy->content_hash);
  EXPECT_EQ(build_node_document(*reloaded.policy, reloaded.policy->nodes[1]).version, b.version);
  EXPECT_EQ(b.bytes.substr(0, b.bytes.find('\n')), "# tollway control plane: node gw-b");
}

// Two tenants' providers in one shared file; each tenant's group routes to its own. The sha256 of "token-a" and
// "token-b".
constexpr const char* kTenantNodes = R"(nodes:
  gw-a:
    labels: {tenant: a}
    token_sha256: a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8
  gw-b:
    labels: {tenant: b}
    token_sha256: 49e2bb7eab54cf09b409ffafd3fa8a8a955a60eb972faacaefbed3dbd3207132
)";
std::string tenant_providers(const std::string& key_b) {
  return "providers:\n"
         "  # tenant b first, so that a's lines move when b's are cut\n"
         "  openai-b:\n"
         "    api: openai\n"
         "    base_url: http://127.0.0.1:9\n"
         "    api_key: " + key_b + "\n"
         "  openai-a:\n"
         "    api: openai\n"
         "    base_url: http://127.0.0.1:9\n"
         "    api_key: sk-tenant-a\n"
         "  \"shared\": {api: anthropic, base_url: \"http://127.0.0.1:9\", api_key: sk-shared}\n"
         "credentials:\n"
         "  file_poll: 1s\n"
         "  providers:\n"
         "    openai-b:\n"
         "      - {env: KEY_B}\n"
         "    openai-a:\n"
         "      - {env: KEY_A}\n";
}
constexpr const char* kTenantGroupA =
    "selector:\n  tenant: a\nsections:\n  routes:\n    - path: /v1/chat/completions\n      api: openai\n"
    "      provider: openai-a\n  models:\n    - {match: \"claude-*\", provider: shared}\n";
constexpr const char* kTenantGroupB =
    "selector:\n  tenant: b\nsections:\n  routes:\n    - path: /v1/chat/completions\n      api: openai\n"
    "      provider: openai-b\n      fallback: [{provider: shared}]\n";

PolicyVerdict check_tenants(PolicyDir& d, const std::string& key_b) {
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", tenant_providers(key_b));
  d.write("nodes.yaml", kTenantNodes);
  d.write("groups/a.yaml", kTenantGroupA);
  d.write("groups/b.yaml", kTenantGroupB);
  return check_policy(d.path(), testing::loader_check);
}

TEST(NodeScope, AGatewayGetsOnlyTheProvidersItsRoutesAndModelsName) {
  PolicyDir d;
  const PolicyVerdict verdict = check_tenants(d, "sk-tenant-b");
  ASSERT_TRUE(verdict.policy) << joined(verdict.errors);  // each scoped document passed the gateway's own check
  const NodeDocument& a = verdict.policy->documents[0];
  const NodeDocument& b = verdict.policy->documents[1];
  ASSERT_EQ(a.node, "gw-a");
  EXPECT_EQ(a.bytes.find("sk-tenant-b"), std::string::npos) << a.bytes;
  EXPECT_EQ(a.bytes.find("openai-b"), std::string::npos) << a.bytes;
  EXPECT_EQ(a.bytes.find("KEY_B"), std::string::npos) << a.bytes;
  EXPECT_NE(a.bytes.find("providers:\n  # tenant b first, so that a's lines move when b's are cut\n  openai-a:\n"
                         "    api: openai\n    base_url: http://127.0.0.1:9\n    api_key: sk-tenant-a\n  \"shared\":"),
            std::string::npos)
      << a.bytes;
  EXPECT_NE(a.bytes.find("credentials:\n  file_poll: 1s\n  providers:\n    openai-a:\n      - {env: KEY_A}\n"),
            std::string::npos)
      << a.bytes;
  // b's route falls back to `shared`: b holds it; a's credentials name no provider b uses but openai-b.
  EXPECT_EQ(b.bytes.find("sk-tenant-a"), std::string::npos) << b.bytes;
  EXPECT_NE(b.bytes.find("sk-tenant-b"), std::string::npos) << b.bytes;
  EXPECT_NE(b.bytes.find("sk-shared"), std::string::npos) << b.bytes;
  EXPECT_EQ(b.bytes.find("KEY_A"), std::string::npos) << b.bytes;
  // The line map still leads each kept line to its place in the policy: a's api_key is line 10 of providers.yaml.
  const auto line_of = [](const NodeDocument& doc, std::string_view text) {
    return 1 + static_cast<int>(std::count(doc.bytes.begin(), doc.bytes.begin() + doc.bytes.find(text), '\n'));
  };
  EXPECT_EQ(a.translate("/o", "/o:" + std::to_string(line_of(a, "sk-tenant-a")) + ": providers.openai-a.api_key: x"),
            d.file("providers.yaml") + ":10: providers.openai-a.api_key: x");
  EXPECT_EQ(a.translate("/o", "/o:" + std::to_string(line_of(a, "KEY_A")) + ": credentials: x"),
            d.file("providers.yaml") + ":18: credentials: x");

  // Tenant b's key changes: b's version changes, a's does not (a's document is the same bytes).
  PolicyDir d2;
  const PolicyVerdict changed = check_tenants(d2, "sk-tenant-b-rotated");
  ASSERT_TRUE(changed.policy) << joined(changed.errors);
  EXPECT_NE(changed.policy->content_hash, verdict.policy->content_hash);
  EXPECT_EQ(changed.policy->documents[0].bytes, a.bytes);
  EXPECT_EQ(changed.policy->documents[0].version, a.version);
  EXPECT_NE(changed.policy->documents[1].version, b.version);
}

TEST(NodeScope, ANodeWhoseCredentialsNameNoneOfItsProvidersLosesTheMapping) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", tenant_providers("sk-tenant-b"));
  d.write("nodes.yaml", kTenantNodes);
  d.write("groups/a.yaml", "selector:\n  tenant: a\nsections:\n  routes:\n    - path: /v1/chat/completions\n"
                           "      api: anthropic\n      provider: shared\n");
  d.write("groups/b.yaml", kTenantGroupB);
  const PolicyVerdict verdict = check_policy(d.path(), testing::loader_check);
  ASSERT_TRUE(verdict.policy) << joined(verdict.errors);
  const std::string& a = verdict.policy->documents[0].bytes;
  EXPECT_NE(a.find("credentials:\n  file_poll: 1s\n"), std::string::npos) << a;
  EXPECT_EQ(a.find("  providers:\n"), std::string::npos) << a;
  EXPECT_EQ(a.find("openai-"), std::string::npos) << a;
}

TEST(NodeScope, ProvidersThatCannotBeCutAreAnErrorNotAWholeSection) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml",
          "providers: {openai: {api: openai, base_url: \"http://127.0.0.1:9\", api_key: sk-x}}\n"
          "routes:\n  - {path: /v1/chat/completions, api: openai, provider: openai}\n");
  d.write("nodes.yaml", testing::kNodes);
  const PolicyVerdict flow = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(flow.policy);
  ASSERT_EQ(flow.errors.size(), 1u) << joined(flow.errors);
  EXPECT_EQ(flow.errors[0].rfind(d.file("providers.yaml") + ":1: providers: must be a block mapping, one `name:` per "
                                 "line at the same column (written on one line (flow style))", 0), 0u)
      << flow.errors[0];
  d.write("providers.yaml", std::string(testing::kProviders) + "  - path: /v1/x\n    api: openai\n    provider: "
                                                              "${env:WHICH}\n");
  const PolicyVerdict env = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(env.policy);
  ASSERT_EQ(env.errors.size(), 1u) << joined(env.errors);
  EXPECT_EQ(env.errors[0].rfind(d.file("providers.yaml") + ":16: routes[1].provider: a provider named through ${…} "
                                "cannot be scoped", 0), 0u)
      << env.errors[0];
}

TEST(NodeDocument, ASidecarNodesDocumentIsTheSidecarSectionsAndItsGroup) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", testing::kProviders);
  d.write("sidecars/mesh.yaml", testing::kSidecarShared);
  d.write("nodes.yaml", testing::kNodesWithSidecars);
  d.write("groups/agent-a.yaml", testing::kAgentAGroup);
  const PolicyVerdict verdict = check_policy(d.path(), testing::loader_check);
  ASSERT_TRUE(verdict.policy) << joined(verdict.errors);
  const auto& docs = verdict.policy->documents;
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].node, "agent-a");
  EXPECT_NE(docs[0].bytes.find("\npeers:\n  agent-b:"), std::string::npos) << docs[0].bytes;
  EXPECT_NE(docs[0].bytes.find("\nsidecar:\n  spiffe_id: spiffe://example.org/ns/prod/sa/agent-a\n"), std::string::npos)
      << docs[0].bytes;
  EXPECT_EQ(docs[0].bytes.find("gateway:"), std::string::npos) << docs[0].bytes;
  EXPECT_EQ(docs[1].bytes.find("peers:"), std::string::npos) << docs[1].bytes;
  // A sidecar's error is checked by the sidecar's loader and named where the policy says it.
  d.write("sidecars/mesh.yaml", "version: 1\npeers:\n  agent-b: {address: 127.0.0.1:15106, spiffe_id: nope}\n");
  const PolicyVerdict bad = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(bad.policy);
  ASSERT_EQ(bad.errors.size(), 1u) << joined(bad.errors);
  EXPECT_TRUE(bad.errors[0].starts_with(d.file("sidecars/mesh.yaml") + ":3: peers.agent-b.spiffe_id: ")) << bad.errors[0];
}

TEST(NodeDocument, APrepareErrorIsTranslatedToThePolicyFileAndLine) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", testing::kProviders);
  d.write("nodes.yaml", testing::kNodes);
  // Line 6 of the group file: a route to a provider that does not exist, only for zone a.
  d.write("groups/zone-a.yaml",
          "selector:\n  zone: a\nsections:\n  routes:\n    - path: /v1/chat/completions\n      provider: nowhere\n"
          "      api: openai\n");
  const PolicyVerdict verdict = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(verdict.policy);
  ASSERT_EQ(verdict.errors.size(), 1u) << joined(verdict.errors);
  EXPECT_EQ(verdict.errors[0].rfind(d.file("groups/zone-a.yaml") + ":6: routes[0].provider: ", 0), 0u)
      << verdict.errors[0];
}

TEST(NodeDocument, ASharedErrorIsReportedOnceAtItsLine) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", std::string(testing::kProviders) + "pricing:\n  unknown_key: 1\n");
  d.write("nodes.yaml", testing::kNodes);
  const PolicyVerdict verdict = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(verdict.policy);
  ASSERT_EQ(verdict.errors.size(), 1u) << joined(verdict.errors);  // both nodes, one line
  EXPECT_EQ(verdict.errors[0].rfind(d.file("providers.yaml") + ":15: pricing.unknown_key: ", 0), 0u)
      << verdict.errors[0];
}

TEST(NodeDocument, NodesWithTheSameDocumentAreCheckedOnce) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", testing::kProviders);
  d.write("nodes.yaml", testing::kNodes);
  int checks = 0;
  const CheckDocument counting = [&](NodeRole role, const std::string& bytes, const std::string& origin) {
    ++checks;
    return testing::loader_check(role, bytes, origin);
  };
  const PolicyVerdict same = check_policy(d.path(), counting);
  ASSERT_TRUE(same.policy) << joined(same.errors);
  EXPECT_EQ(same.policy->documents.size(), 2u);  // both published, each its own first line and version
  EXPECT_NE(same.policy->documents[0].version, same.policy->documents[1].version);
  EXPECT_EQ(checks, 1);
  // gw-b's document is gw-a's under gw-b's first line, exactly as it would be assembled for gw-b.
  const auto load = load_policy_directory(d.path());
  ASSERT_TRUE(load.policy);
  const NodeDocument built = build_node_document(*load.policy, load.policy->nodes[1]);
  const NodeDocument& reused = same.policy->documents[1];
  EXPECT_EQ(reused.node, "gw-b");
  EXPECT_EQ(reused.bytes, built.bytes);
  EXPECT_EQ(reused.version, built.version);
  EXPECT_EQ(reused.content_version, built.content_version);
  // A group that changes gw-a's sections: two documents, two checks; its error is still named at its line.
  d.write("groups/zone-a.yaml",
          "selector:\n  zone: a\nsections:\n  routes:\n    - path: /v1/chat/completions\n      provider: openai\n"
          "      api: anthropic\n");
  checks = 0;
  const PolicyVerdict differ = check_policy(d.path(), counting);
  EXPECT_EQ(checks, 2);
  ASSERT_FALSE(differ.policy);
  ASSERT_EQ(differ.errors.size(), 1u) << joined(differ.errors);
  EXPECT_EQ(differ.errors[0].rfind(d.file("groups/zone-a.yaml") + ":6: routes[0].provider: ", 0), 0u) << differ.errors[0];
}

TEST(NodeDocument, ANodeWithNoSectionIsToldSo) {
  PolicyDir d;
  d.write("nodes.yaml", "nodes:\n  agent-a:\n    role: sidecar\n    token_sha256: "
                        "a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8\n");
  const PolicyVerdict verdict = check_policy(d.path(), testing::loader_check);
  ASSERT_FALSE(verdict.policy);
  ASSERT_EQ(verdict.errors.size(), 1u) << joined(verdict.errors);
  EXPECT_EQ(verdict.errors[0], "node agent-a: its document is empty: no section of sidecars/*.yaml or of a group that "
                               "selects it");
}

TEST(NodeDocument, TranslateLeavesOtherTextAlone) {
  NodeDocument doc;
  doc.node = "gw-a";
  doc.lines.push_back({2, 3, "/p/base.yaml", 10});
  EXPECT_EQ(doc.translate("/p/gw-a.resolved.yaml", "/p/gw-a.resolved.yaml:3: gateway.workers: bad"),
            "/p/base.yaml:11: gateway.workers: bad");
  EXPECT_EQ(doc.translate("/p/gw-a.resolved.yaml", "/p/gw-a.resolved.yaml: cannot build"), "node gw-a: cannot build");
  EXPECT_EQ(doc.translate("/p/gw-a.resolved.yaml", "something else"), "something else");
}

}  // namespace
}  // namespace tollway::control

namespace tollway::control {
namespace {

using testing::PolicyDir;

// The etcd store hands the same check its files in memory, named under the prefix: errors name the keys.
TEST(PolicyFilesInMemory, ErrorsNameTheKeysUnderThePrefix) {
  PolicyFiles files{"/tollway/policy",
                    {{"base.yaml", testing::kBase},
                     {"providers.yaml", testing::kProviders},
                     {"nodes.yaml", testing::kNodes},
                     {"groups/zone-a.yaml", "selector:\n  zone: a\nsections:\n  routes:\n    - path: /v1/chat/completions\n"
                                            "      provider: nowhere\n      api: openai\n"}}};
  const PolicyVerdict verdict = check_policy(files, testing::loader_check);
  ASSERT_FALSE(verdict.policy);
  ASSERT_EQ(verdict.errors.size(), 1u);
  EXPECT_EQ(verdict.errors[0].rfind("/tollway/policy/groups/zone-a.yaml:6: routes[0].provider: ", 0), 0u)
      << verdict.errors[0];
  files.files.erase("groups/zone-a.yaml");
  files.files["more.yaml"] = "# again\nversion: 1\n";
  const PolicyLoad load = load_policy(files);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0],
            "/tollway/policy/more.yaml:2: version: also defined at /tollway/policy/base.yaml:1: a top-level key "
            "belongs to one file");
  files.files.erase("more.yaml");
  const PolicyVerdict ok = check_policy(files, testing::loader_check);
  ASSERT_TRUE(ok.policy) << (ok.errors.empty() ? "" : ok.errors[0]);
  // The same files from a directory hash the same.
  PolicyDir d;
  for (const auto& [path, bytes] : files.files) d.write(path, bytes);
  EXPECT_EQ(load_policy_directory(d.path()).policy->content_hash, ok.policy->content_hash);
}

}  // namespace
}  // namespace tollway::control
