#include "control/policy_directory.h"

#include <gtest/gtest.h>

#include "policy_fixture.h"

namespace tollway::control {
namespace {

using testing::joined;
using testing::PolicyDir;

TEST(PolicyDirectory, ReadsSharedSectionsGroupsAndNodes) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("providers.yaml", testing::kProviders);
  d.write("nodes.yaml", testing::kNodes);
  d.write("groups/zone-a.yaml", "selector:\n  zone: a\nsections:\n  routes:\n    - path: /v1/x\n      api: openai\n      provider: openai\n");
  auto load = load_policy_directory(d.path());
  ASSERT_TRUE(load.policy) << joined(load.errors);
  const auto& p = *load.policy;
  ASSERT_EQ(p.shared.size(), 5u);  // version, gateway, providers, models, routes
  EXPECT_EQ(p.shared[0].key, "version");
  EXPECT_EQ(p.shared[2].key, "providers");
  EXPECT_EQ(p.shared[2].first_line, 2);  // after the comment line
  ASSERT_EQ(p.nodes.size(), 2u);
  EXPECT_EQ(p.nodes[0].id, "gw-a");
  EXPECT_EQ(p.nodes[0].labels.at("zone"), "a");
  ASSERT_EQ(p.groups.size(), 1u);
  ASSERT_EQ(p.groups[0].sections.size(), 1u);
  EXPECT_EQ(p.groups[0].sections[0].key, "routes");
  EXPECT_EQ(p.groups[0].sections[0].first_line, 4);
  EXPECT_EQ(p.groups[0].sections[0].text, "routes:\n  - path: /v1/x\n    api: openai\n    provider: openai\n");
  EXPECT_EQ(p.group_of.at("gw-a"), "zone-a");
  EXPECT_FALSE(p.group_of.count("gw-b"));
  EXPECT_EQ(p.content_hash.size(), 64u);
}

TEST(PolicyDirectory, SidecarNodesHaveTheirOwnSharedSections) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("sidecars/mesh.yaml", testing::kSidecarShared);
  d.write("nodes.yaml", testing::kNodesWithSidecars);
  d.write("groups/agent-a.yaml", testing::kAgentAGroup);
  auto load = load_policy_directory(d.path());
  ASSERT_TRUE(load.policy) << joined(load.errors);
  const auto& p = *load.policy;
  ASSERT_EQ(p.shared.size(), 2u);  // version, gateway
  ASSERT_EQ(p.sidecar_shared.size(), 2u);  // version, peers: the same key in the two sets is no conflict
  EXPECT_EQ(p.sidecar_shared[1].key, "peers");
  EXPECT_EQ(p.sidecar_shared[1].file, d.file("sidecars/mesh.yaml"));
  ASSERT_EQ(p.nodes.size(), 2u);
  EXPECT_EQ(p.nodes[0].id, "agent-a");
  EXPECT_EQ(p.nodes[0].role, NodeRole::Sidecar);
  EXPECT_EQ(p.nodes[1].role, NodeRole::Gateway);
  EXPECT_EQ(&p.shared_for(NodeRole::Sidecar), &p.sidecar_shared);
  EXPECT_EQ(p.group_of.at("agent-a"), "agent-a");
}

TEST(PolicyDirectory, AnUnknownRoleAndAGroupOfTwoRolesAreErrors) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  std::string nodes = testing::kNodesWithSidecars;
  nodes += "  agent-b:\n    role: mesh\n    token_sha256: " + std::string(64, 'c') + "\n";
  d.write("nodes.yaml", nodes);
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  const std::string all = joined(load.errors);
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":10: nodes.agent-b.role: \"mesh\" is not a role (allowed: gateway, "
                                           "sidecar)"),
            std::string::npos)
      << all;
  std::string both = testing::kNodesWithSidecars;
  both.replace(both.find("{role: gateway, zone: a}"), 24, "{app: agent-a}");
  d.write("nodes.yaml", both);
  d.write("groups/all.yaml", "selector:\n  app: agent-a\nsections:\n  version: 1\n");
  load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  ASSERT_EQ(load.errors.size(), 1u) << joined(load.errors);
  EXPECT_EQ(load.errors[0], d.file("groups/all.yaml") +
                                ":2: selector: selects gateway and sidecar nodes: a group's sections replace one "
                                "role's shared sections");
}

TEST(PolicyDirectory, AKeyInTwoFilesNamesBothPlaces) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("more.yaml", "# again\nversion: 1\n");
  d.write("nodes.yaml", testing::kNodes);
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  ASSERT_EQ(load.errors.size(), 1u) << joined(load.errors);
  EXPECT_EQ(load.errors[0], d.file("more.yaml") + ":2: version: also defined at " + d.file("base.yaml") +
                                ":1: a top-level key belongs to one file");
}

TEST(PolicyDirectory, AGroupThatSelectsNoNodeIsAnError) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", testing::kNodes);
  d.write("groups/zone-c.yaml", "# nobody\nselector:\n  zone: c\n");
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  ASSERT_EQ(load.errors.size(), 1u) << joined(load.errors);
  EXPECT_EQ(load.errors[0], d.file("groups/zone-c.yaml") + ":3: selector: matches none of the nodes declared in nodes.yaml");
}

TEST(PolicyDirectory, ANodeInTwoGroupsIsAnError) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", testing::kNodes);
  d.write("groups/gateways.yaml", "selector: {role: gateway}\n");
  d.write("groups/zone-a.yaml", "selector: {zone: a}\n");
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  ASSERT_EQ(load.errors.size(), 1u) << joined(load.errors);
  EXPECT_EQ(load.errors[0], d.file("nodes.yaml") +
                                ":2: nodes.gw-a: selected by two groups, \"gateways\" and \"zone-a\": a node belongs "
                                "to one group at most");
}

TEST(PolicyDirectory, UnknownKeysInNodesAndGroupsAreRefused) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", std::string(testing::kNodes) + "  gw-c:\n    labels: {role: gateway}\n    token: x\n");
  d.write("groups/gateways.yaml", "selector: {role: gateway}\nsection: {}\n");
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  const std::string all = joined(load.errors);
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":10: nodes.gw-c.token: unknown key (allowed: labels, role, spiffe_id, token_sha256)"),
            std::string::npos) << all;
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":8: nodes.gw-c.token_sha256: required"), std::string::npos) << all;
  EXPECT_NE(all.find(d.file("groups/gateways.yaml") + ":2: section: unknown key (allowed: sections, selector)"),
            std::string::npos) << all;
}

// A node may name the SPIFFE ID whose certificate authenticates it; with one, its bootstrap token is optional. An ID
// that is not a SPIFFE ID, or one declared for two nodes, is an error at its line.
TEST(PolicyDirectory, ANodesSpiffeIdIsParsedAndBelongsToOneNode) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", "nodes:\n  gw-a:\n    spiffe_id: spiffe://example.org/ns/prod/sa/gw-a\n"
                        "  gw-b:\n    spiffe_id: spiffe://example.org/ns/prod/sa/gw-b\n    token_sha256: " +
                            std::string(64, 'a') + "\n");
  auto load = load_policy_directory(d.path());
  ASSERT_TRUE(load.policy) << joined(load.errors);
  ASSERT_EQ(load.policy->nodes.size(), 2u);
  EXPECT_EQ(load.policy->nodes[0].spiffe_id, "spiffe://example.org/ns/prod/sa/gw-a");
  EXPECT_EQ(load.policy->nodes[0].token_sha256, "");
  EXPECT_EQ(load.policy->nodes[1].token_sha256, std::string(64, 'a'));

  d.write("nodes.yaml", "nodes:\n  gw-a:\n    spiffe_id: spiffe://example.org/ns/prod/sa/gw-a\n"
                        "  gw-b:\n    spiffe_id: spiffe://example.org/ns/prod/sa/gw-a\n"
                        "  gw-c:\n    spiffe_id: https://example.org/gw-c\n"
                        "  gw-d:\n    labels: {role: gateway}\n");
  load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  const std::string all = joined(load.errors);
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":4: nodes.gw-b.spiffe_id: spiffe://example.org/ns/prod/sa/gw-a is "
                                            "already node gw-a's identity"),
            std::string::npos) << all;
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":7: nodes.gw-c.spiffe_id: must be the SPIFFE ID"), std::string::npos)
      << all;
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":8: nodes.gw-d.token_sha256: required without spiffe_id"),
            std::string::npos) << all;
}

// YAML allows any node as a key (`? [a, b]`); no key of a policy is one, and none may stop the check.
TEST(PolicyDirectory, KeysThatAreNotStringsAreRefusedWithTheirLine) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", "nodes:\n  ? [a, b]\n  : {role: gateway}\n  gw-a:\n    labels: {[x]: 1}\n"
                        "    ? {y: 1}\n    : 2\n");
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  const std::string all = joined(load.errors);
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":2: nodes: a key must be a plain string"), std::string::npos) << all;
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":5: nodes.gw-a.labels: a key must be a plain string"), std::string::npos)
      << all;
  EXPECT_NE(all.find(d.file("nodes.yaml") + ":6: nodes.gw-a: a key must be a plain string"), std::string::npos) << all;
}

TEST(PolicyDirectory, FlowStyleAndSeveralDocumentsAreRefused) {
  PolicyDir d;
  d.write("base.yaml", "{version: 1}\n");
  d.write("other.yaml", "providers: {}\n---\nroutes: []\n");
  d.write("nodes.yaml", testing::kNodes);
  auto load = load_policy_directory(d.path());
  ASSERT_FALSE(load.policy);
  const std::string all = joined(load.errors);
  EXPECT_NE(all.find(d.file("base.yaml") + ":1: flow style"), std::string::npos) << all;
  EXPECT_NE(all.find(d.file("other.yaml") + ":2: several YAML documents"), std::string::npos) << all;
}

TEST(PolicyDirectory, TheContentHashFollowsTheBytes) {
  PolicyDir d;
  d.write("base.yaml", testing::kBase);
  d.write("nodes.yaml", testing::kNodes);
  const auto first = load_policy_directory(d.path());
  const auto same = load_policy_directory(d.path());
  d.write("base.yaml", std::string(testing::kBase) + "# a comment\n");
  const auto changed = load_policy_directory(d.path());
  ASSERT_TRUE(first.policy && same.policy && changed.policy);
  EXPECT_EQ(first.policy->content_hash, same.policy->content_hash);
  EXPECT_NE(first.policy->content_hash, changed.policy->content_hash);
}

}  // namespace
}  // namespace tollway::control
