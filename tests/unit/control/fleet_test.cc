#include "control/fleet.h"

#include <gtest/gtest.h>

namespace tollway::control {
namespace {

using namespace std::chrono_literals;

// "token-a"'s sha256.
constexpr const char* kTokenA = "a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8";

CheckedPolicy policy_with(const std::string& version) {
  CheckedPolicy p;
  DeclaredNode n;
  n.id = "gw-a";
  n.labels = {{"role", "gateway"}};
  n.token_sha256 = kTokenA;
  p.nodes.push_back(n);
  NodeDocument d;
  d.node = "gw-a";
  d.bytes = "version: 1\n# " + version + "\n";
  d.version = version;
  d.content_version = "c-" + version;
  p.documents.push_back(d);
  return p;
}

class FleetTest : public ::testing::Test {
 protected:
  NodeState state() const { return fleet.state(*fleet.find("gw-a"), now); }
  Fleet fleet{30s, 5min};
  Clock::time_point now = Clock::now();
};

// A node without a token_sha256 (it authenticates by certificate only) never matches a token, not even the empty one;
// the fleet shows the node's declared SPIFFE ID and how its latest accepted request authenticated.
TEST_F(FleetTest, ANodeWithoutATokenMatchesNoTokenAndShowsHowItAuthenticated) {
  CheckedPolicy p = policy_with("v1");
  p.nodes[0].token_sha256.clear();
  p.nodes[0].spiffe_id = "spiffe://example.org/ns/prod/sa/gw-a";
  fleet.publish(p);
  EXPECT_FALSE(fleet.authenticate("gw-a", ""));
  EXPECT_FALSE(fleet.authenticate("gw-a", "token-a"));
  std::string json = fleet.nodes_json(now);
  EXPECT_NE(json.find(R"("spiffe_id":"spiffe://example.org/ns/prod/sa/gw-a","auth":null)"), std::string::npos) << json;
  fleet.authenticated("gw-a", "certificate");
  json = fleet.nodes_json(now);
  EXPECT_NE(json.find(R"("auth":"certificate")"), std::string::npos) << json;
}

TEST_F(FleetTest, NotSentThenStaleThenSynced) {
  fleet.publish(policy_with("v1"));
  EXPECT_EQ(state(), NodeState::NotSent);
  fleet.poll_started("gw-a", "", "", now);
  EXPECT_TRUE(fleet.should_send("gw-a", ""));
  const std::string nonce = fleet.issue("gw-a", now);
  fleet.poll_ended("gw-a", now);
  EXPECT_EQ(state(), NodeState::Stale);
  EXPECT_EQ(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now), "");
  EXPECT_EQ(state(), NodeState::Synced);
  EXPECT_FALSE(fleet.should_send("gw-a", "v1"));
  // A new revision: stale until the node has it.
  fleet.publish(policy_with("v2"));
  EXPECT_EQ(state(), NodeState::NotSent);
  EXPECT_TRUE(fleet.should_send("gw-a", "v1"));
}

TEST_F(FleetTest, ANackIsAnErrorWithItsReasonAndIsNotResent) {
  fleet.publish(policy_with("v1"));
  const std::string n1 = fleet.issue("gw-a", now);
  ASSERT_EQ(fleet.acknowledge("gw-a", "v1", n1, std::nullopt, now), "");
  fleet.publish(policy_with("v2"));
  const std::string n2 = fleet.issue("gw-a", now);
  ASSERT_EQ(fleet.acknowledge("gw-a", "v2", n2, std::string("x.yaml:3: bad"), now), "");
  EXPECT_EQ(state(), NodeState::Error);
  EXPECT_EQ(fleet.find("gw-a")->nack_reason, "x.yaml:3: bad");
  EXPECT_EQ(fleet.find("gw-a")->applied_version, "v1");
  EXPECT_FALSE(fleet.should_send("gw-a", "v1"));  // the node keeps v1; v2 is not sent again
  EXPECT_TRUE(fleet.should_send("gw-a", ""));     // unless it restarted with nothing
  fleet.publish(policy_with("v3"));
  EXPECT_TRUE(fleet.should_send("gw-a", "v1"));
}

TEST_F(FleetTest, BadAcksAreRefusedWithAReason) {
  fleet.publish(policy_with("v1"));
  const std::string nonce = fleet.issue("gw-a", now);
  EXPECT_NE(fleet.acknowledge("gw-a", "v1", "not-a-nonce", std::nullopt, now).find("was not issued"),
            std::string::npos);
  EXPECT_NE(fleet.acknowledge("gw-a", "v9", nonce, std::nullopt, now).find("was not sent"), std::string::npos);
  EXPECT_EQ(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now), "");
  EXPECT_NE(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now).find("already used"), std::string::npos);
  EXPECT_EQ(fleet.acknowledge("gw-x", "v1", nonce, std::nullopt, now), "unknown node");
}

TEST_F(FleetTest, DisconnectedAfterTwoPollTimeoutsWithoutAPoll) {
  fleet.publish(policy_with("v1"));
  fleet.poll_started("gw-a", "v1", "", now);
  EXPECT_EQ(state(), NodeState::Synced);  // `have` says what it runs
  const auto since = *fleet.find("gw-a")->connected_since;
  now += 5min;
  EXPECT_EQ(state(), NodeState::Synced);  // a poll is still waiting
  fleet.poll_ended("gw-a", now);
  now += 61s;
  EXPECT_EQ(state(), NodeState::Disconnected);
  fleet.poll_started("gw-a", "v1", "", now);
  EXPECT_EQ(state(), NodeState::Synced);
  EXPECT_GT(*fleet.find("gw-a")->connected_since, since);
}

TEST_F(FleetTest, APollReportsTheNodesBuild) {
  fleet.publish(policy_with("v1"));
  EXPECT_EQ(fleet.find("gw-a")->build, "");
  fleet.poll_started("gw-a", "", "0.1.0", now);
  EXPECT_EQ(fleet.find("gw-a")->build, "0.1.0");
  fleet.poll_started("gw-a", "", "", now);  // a poll that does not say keeps what is known
  EXPECT_EQ(fleet.find("gw-a")->build, "0.1.0");
  EXPECT_NE(fleet.nodes_json(now).find("\"build\":\"0.1.0\""), std::string::npos);
}

TEST_F(FleetTest, StaleLongerThanDriftAfterIsDriftedAndCrossesOnce) {
  fleet.publish(policy_with("v1"));
  fleet.poll_started("gw-a", "", "", now);
  const std::string nonce = fleet.issue("gw-a", now);
  EXPECT_EQ(state(), NodeState::Stale);
  now += 4min;
  fleet.poll_started("gw-a", "", "", now);  // still polling, never ACKing: STALE
  fleet.issue("gw-a", now);                 // sent again: the drift counts from the first send
  EXPECT_FALSE(fleet.drifted(*fleet.find("gw-a"), now));
  EXPECT_TRUE(fleet.update_drift(now).empty());
  now += 61s;
  EXPECT_TRUE(fleet.drifted(*fleet.find("gw-a"), now));
  auto changes = fleet.update_drift(now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].node, "gw-a");
  EXPECT_TRUE(changes[0].drifted);
  EXPECT_EQ(changes[0].state, NodeState::Stale);
  EXPECT_EQ(changes[0].out_of_sync_for, 5min + 1s);
  now += 10s;
  EXPECT_TRUE(fleet.update_drift(now).empty());  // once, not at every check
  std::string metrics;
  fleet.render_metrics(metrics, now);
  EXPECT_NE(metrics.find("tollway_control_nodes_drifted 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tollway_control_node_drifted{node=\"gw-a\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tollway_control_nodes{state=\"STALE\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tollway_control_drift_after_seconds 300\n"), std::string::npos) << metrics;
  // The ACK arrives: SYNCED, no longer drifted (one change the other way).
  ASSERT_EQ(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now), "");
  changes = fleet.update_drift(now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].drifted);
  EXPECT_EQ(changes[0].state, NodeState::Synced);
  metrics.clear();
  fleet.render_metrics(metrics, now);
  EXPECT_NE(metrics.find("tollway_control_nodes_drifted 0\n"), std::string::npos) << metrics;
}

TEST_F(FleetTest, ErrorLongerThanDriftAfterIsDriftedAndANewVersionStartsAgain) {
  fleet.publish(policy_with("v1"));
  const std::string nonce = fleet.issue("gw-a", now);
  ASSERT_EQ(fleet.acknowledge("gw-a", "v1", nonce, std::string("bad"), now + 1s), "");
  EXPECT_EQ(state(), NodeState::Error);
  now += 5min + 1s;
  const auto changes = fleet.update_drift(now);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].state, NodeState::Error);
  // A new version not yet sent is NOT_SENT: not drifted, and its clock starts when it is sent.
  fleet.publish(policy_with("v2"));
  EXPECT_FALSE(fleet.drifted(*fleet.find("gw-a"), now));
  EXPECT_EQ(fleet.update_drift(now).size(), 1u);
  fleet.issue("gw-a", now);
  now += 5min;
  EXPECT_FALSE(fleet.drifted(*fleet.find("gw-a"), now));
  // NOT_SENT and DISCONNECTED nodes are never drifted, however long.
  fleet.publish(policy_with("v3"));
  now += 1h;
  EXPECT_FALSE(fleet.drifted(*fleet.find("gw-a"), now));
}

TEST_F(FleetTest, AReportingNodeIsUnmanagedAndMatchesOrDrifts) {
  fleet.publish(policy_with("v1"));
  fleet.report("gw-a", "c-v1", "abcdef012345", "0.1.0", now);
  const NodeRecord& record = *fleet.find("gw-a");
  EXPECT_EQ(state(), NodeState::Unmanaged);
  EXPECT_TRUE(Fleet::matches_policy(record));
  EXPECT_EQ(record.build, "0.1.0");
  std::string json = fleet.nodes_json(now);
  EXPECT_NE(json.find("\"state\":\"UNMANAGED\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"match\":\"MATCHES\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"config_version\":\"abcdef012345\""), std::string::npos) << json;
  // The policy changes: the same file now differs from what the policy gives the node.
  fleet.publish(policy_with("v2"));
  EXPECT_EQ(state(), NodeState::Unmanaged);
  EXPECT_FALSE(Fleet::matches_policy(*fleet.find("gw-a")));
  std::string metrics;
  fleet.render_metrics(metrics, now);
  EXPECT_NE(metrics.find("tollway_control_unmanaged_nodes{match=\"DRIFTED\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tollway_control_nodes{state=\"UNMANAGED\"} 1\n"), std::string::npos) << metrics;
  EXPECT_FALSE(fleet.drifted(*fleet.find("gw-a"), now + 1h - 1s));  // drift_after is for managed nodes
  // Silent for too long: DISCONNECTED. A poll makes it managed again.
  now += kUnmanagedSilence + 1s;
  EXPECT_EQ(state(), NodeState::Disconnected);
  fleet.poll_started("gw-a", "", "", now);
  EXPECT_EQ(state(), NodeState::NotSent);
  EXPECT_FALSE(fleet.find("gw-a")->unmanaged);
  EXPECT_EQ(fleet.nodes_json(now).find("\"match\""), std::string::npos);
}

TEST_F(FleetTest, TokensAreCheckedPerNode) {
  fleet.publish(policy_with("v1"));
  EXPECT_TRUE(fleet.authenticate("gw-a", "token-a"));
  EXPECT_FALSE(fleet.authenticate("gw-a", "token-b"));
  EXPECT_FALSE(fleet.authenticate("gw-a", ""));
  EXPECT_FALSE(fleet.authenticate("gw-b", "token-a"));
}

TEST_F(FleetTest, ANodeNoLongerDeclaredIsForgotten) {
  fleet.publish(policy_with("v1"));
  fleet.publish(CheckedPolicy{});
  EXPECT_EQ(fleet.find("gw-a"), nullptr);
  EXPECT_EQ(fleet.nodes_json(now), "[]");
}

}  // namespace
}  // namespace tollway::control
