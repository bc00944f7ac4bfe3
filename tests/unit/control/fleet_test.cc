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
  p.documents.push_back(d);
  return p;
}

class FleetTest : public ::testing::Test {
 protected:
  NodeState state() const { return fleet.state(*fleet.find("gw-a"), now); }
  Fleet fleet{30s};
  Clock::time_point now = Clock::now();
};

TEST_F(FleetTest, NotSentThenStaleThenSynced) {
  fleet.publish(policy_with("v1"));
  EXPECT_EQ(state(), NodeState::NotSent);
  fleet.poll_started("gw-a", "", now);
  EXPECT_TRUE(fleet.should_send("gw-a", ""));
  const std::string nonce = fleet.issue("gw-a");
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
  const std::string n1 = fleet.issue("gw-a");
  ASSERT_EQ(fleet.acknowledge("gw-a", "v1", n1, std::nullopt, now), "");
  fleet.publish(policy_with("v2"));
  const std::string n2 = fleet.issue("gw-a");
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
  const std::string nonce = fleet.issue("gw-a");
  EXPECT_NE(fleet.acknowledge("gw-a", "v1", "not-a-nonce", std::nullopt, now).find("was not issued"),
            std::string::npos);
  EXPECT_NE(fleet.acknowledge("gw-a", "v9", nonce, std::nullopt, now).find("was not sent"), std::string::npos);
  EXPECT_EQ(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now), "");
  EXPECT_NE(fleet.acknowledge("gw-a", "v1", nonce, std::nullopt, now).find("already used"), std::string::npos);
  EXPECT_EQ(fleet.acknowledge("gw-x", "v1", nonce, std::nullopt, now), "unknown node");
}

TEST_F(FleetTest, DisconnectedAfterTwoPollTimeoutsWithoutAPoll) {
  fleet.publish(policy_with("v1"));
  fleet.poll_started("gw-a", "v1", now);
  EXPECT_EQ(state(), NodeState::Synced);  // `have` says what it runs
  const auto since = *fleet.find("gw-a")->connected_since;
  now += 5min;
  EXPECT_EQ(state(), NodeState::Synced);  // a poll is still waiting
  fleet.poll_ended("gw-a", now);
  now += 61s;
  EXPECT_EQ(state(), NodeState::Disconnected);
  fleet.poll_started("gw-a", "v1", now);
  EXPECT_EQ(state(), NodeState::Synced);
  EXPECT_GT(*fleet.find("gw-a")->connected_since, since);
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
