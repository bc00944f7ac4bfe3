#include "control/rollout/rollout_coordinator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace tollway::control::rollout {
namespace {

using namespace std::chrono_literals;

// A policy of nodes gw-a (zone a), gw-b and gw-c (zone b), each document versioned "<tag>-<node>".
CheckedPolicy policy(const std::string& tag) {
  CheckedPolicy p;
  p.content_hash = tag;
  for (const auto& [id, zone] : {std::pair{"gw-a", "a"}, std::pair{"gw-b", "b"}, std::pair{"gw-c", "b"}}) {
    DeclaredNode n;
    n.id = id;
    n.labels = {{"zone", zone}};
    p.nodes.push_back(n);
    NodeDocument d;
    d.node = id;
    d.version = tag + "-" + id;
    d.bytes = "# " + d.version + "\n";
    p.documents.push_back(d);
  }
  return p;
}

RolloutSpec zone_a_spec() {
  RolloutSpec spec;
  spec.canary.selector = {{"zone", "a"}};
  spec.hold = 5s;
  spec.min_requests = 10;
  return spec;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("tollway-rollout-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
    open();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void open() {
    coordinator.reset();
    std::string error;
    log = RolloutLog::open((dir / "history.db").string(), false, error);
    ASSERT_TRUE(log) << error;
    coordinator = std::make_unique<RolloutCoordinator>(
        *log,
        [this](const std::string& revision, std::string& error) -> std::optional<CheckedPolicy> {
          if (const auto it = recorded.find(revision); it != recorded.end()) return it->second;
          error = "no version " + revision;
          return std::nullopt;
        },
        [this](const CheckedPolicy& p, const std::string& revision) {
          published.emplace_back(p, revision);
          fleet.publish(p);
        });
  }
  std::string accept(const std::string& revision, const std::string& tag, std::optional<RolloutSpec> spec,
                     bool new_version = true) {
    recorded[revision] = policy(tag);
    return coordinator->accept(policy(tag), spec, revision, new_version, now);
  }
  // The document version the last publish gives `node`.
  std::string served(const std::string& node) const {
    const CheckedPolicy& p = published.back().first;
    for (std::size_t i = 0; i < p.nodes.size(); ++i)
      if (p.nodes[i].id == node) return p.documents[i].version;
    return "(none)";
  }

  std::filesystem::path dir;
  std::unique_ptr<RolloutLog> log;
  std::unique_ptr<RolloutCoordinator> coordinator;
  std::map<std::string, CheckedPolicy> recorded;
  std::vector<std::pair<CheckedPolicy, std::string>> published;
  Fleet fleet{30s, 5min};
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'800'000'000));
};

TEST_F(CoordinatorTest, TheFirstVersionGoesToEveryNodeEvenWithASpec) {
  EXPECT_EQ(accept("1-a", "v1", zone_a_spec()), "");
  EXPECT_FALSE(coordinator->judging());
  EXPECT_EQ(served("gw-b"), "v1-gw-b");
  EXPECT_EQ(coordinator->status_json(now), "null");
}

TEST_F(CoordinatorTest, ACanaryGoesToTheCanaryNodesOnlyAndIsRolledBackOnTheirDenials) {
  accept("1-a", "v1", std::nullopt);
  EXPECT_EQ(accept("2-b", "v2", zone_a_spec()), "");
  ASSERT_TRUE(coordinator->judging());
  EXPECT_EQ(served("gw-a"), "v2-gw-a");
  EXPECT_EQ(served("gw-b"), "v1-gw-b");
  EXPECT_EQ(served("gw-c"), "v1-gw-c");
  EXPECT_EQ(coordinator->revision_for("gw-a", "2-b"), "2-b");
  EXPECT_EQ(coordinator->revision_for("gw-b", "2-b"), "1-a");
  coordinator->report("gw-b", "v1-gw-b", {100, 0, 0});
  coordinator->report("gw-b", "v1-gw-b", {120, 0, 0});
  coordinator->report("gw-a", "v2-gw-a", {12, 0, 12});
  coordinator->tick(fleet, now + 1s);
  EXPECT_FALSE(coordinator->judging());
  EXPECT_EQ(served("gw-a"), "v1-gw-a");
  EXPECT_EQ(published.back().second, "1-a");
  std::string error;
  const auto row = log->find("2-b", error);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->phase, Phase::RolledBack);
  EXPECT_EQ(row->reason, "canary deny rate 100.0% over 12 requests vs baseline 0.0% (threshold +5%)");
  EXPECT_NE(coordinator->status_json(now).find("\"phase\":\"rolled_back\""), std::string::npos);
  // Read again (a restart, or the store polled again), the rolled-back version is not offered: the stable one is.
  open();
  EXPECT_EQ(accept("2-b", "v2", zone_a_spec(), false), "");
  EXPECT_EQ(served("gw-a"), "v1-gw-a");
  EXPECT_EQ(published.back().second, "1-a");
  EXPECT_FALSE(coordinator->judging());
}

TEST_F(CoordinatorTest, ACanaryNodesNackRollsBack) {
  accept("1-a", "v1", std::nullopt);
  accept("2-b", "v2", zone_a_spec());
  const std::string nonce = fleet.issue("gw-a", now);
  EXPECT_EQ(fleet.acknowledge("gw-a", "v2-gw-a", nonce, std::string("bad route"), now), "");
  coordinator->tick(fleet, now + 1s);
  EXPECT_FALSE(coordinator->judging());
  std::string error;
  EXPECT_EQ(log->find("2-b", error)->reason, "canary node gw-a refused the version: bad route");
}

TEST_F(CoordinatorTest, PromotedAfterTheHoldEveryNodeGetsIt) {
  accept("1-a", "v1", std::nullopt);
  accept("2-b", "v2", zone_a_spec());
  coordinator->report("gw-a", "v2-gw-a", {10, 0, 0});
  coordinator->tick(fleet, now + 4s);
  EXPECT_TRUE(coordinator->judging());
  EXPECT_EQ(served("gw-b"), "v1-gw-b");
  coordinator->tick(fleet, now + 5s);
  EXPECT_FALSE(coordinator->judging());
  EXPECT_EQ(served("gw-b"), "v2-gw-b");
  EXPECT_EQ(published.back().second, "2-b");
  // The promoted version is the stable one the next canary runs beside.
  accept("3-c", "v3", zone_a_spec());
  EXPECT_EQ(served("gw-a"), "v3-gw-a");
  EXPECT_EQ(served("gw-b"), "v2-gw-b");
}

TEST_F(CoordinatorTest, ANewerVersionSupersedesTheCanary) {
  accept("1-a", "v1", std::nullopt);
  accept("2-b", "v2", zone_a_spec());
  accept("3-c", "v3", zone_a_spec());
  std::string error;
  EXPECT_EQ(log->find("2-b", error)->phase, Phase::Superseded);
  EXPECT_EQ(log->find("2-b", error)->reason, "superseded by 3-c, a newer version in canary");
  EXPECT_EQ(served("gw-a"), "v3-gw-a");
  EXPECT_EQ(served("gw-b"), "v1-gw-b");  // still the stable version, not the superseded canary's
  accept("4-d", "v4", std::nullopt);       // published without a canary: to every node at once
  EXPECT_EQ(log->find("3-c", error)->reason, "superseded by 4-d, published to every node without a canary");
  EXPECT_EQ(served("gw-b"), "v4-gw-b");
  EXPECT_FALSE(coordinator->judging());
}

TEST_F(CoordinatorTest, ARestartResumesTheCanaryFromTheLog) {
  accept("1-a", "v1", std::nullopt);
  accept("2-b", "v2", zone_a_spec());
  open();
  EXPECT_EQ(accept("2-b", "v2", zone_a_spec(), false), "");
  ASSERT_TRUE(coordinator->judging());
  EXPECT_EQ(served("gw-a"), "v2-gw-a");
  EXPECT_EQ(served("gw-b"), "v1-gw-b");
  // The hold counts from the recorded start.
  coordinator->report("gw-a", "v2-gw-a", {10, 0, 0});
  coordinator->tick(fleet, now + 5s);
  EXPECT_FALSE(coordinator->judging());
  EXPECT_EQ(served("gw-b"), "v2-gw-b");
}

TEST_F(CoordinatorTest, AVersionThatChangesNoNodesDocumentIsPublishedWhole) {
  accept("1-a", "v1", std::nullopt);
  recorded["2-b"] = policy("v1");
  EXPECT_EQ(coordinator->accept(policy("v1"), zone_a_spec(), "2-b", true, now), "");
  EXPECT_FALSE(coordinator->judging());
  EXPECT_EQ(published.back().second, "2-b");
}

TEST_F(CoordinatorTest, ASelectorMatchingNoNodePublishesNothing) {
  accept("1-a", "v1", std::nullopt);
  RolloutSpec spec = zone_a_spec();
  spec.canary.selector = {{"zone", "z"}};
  const std::size_t before = published.size();
  EXPECT_EQ(accept("2-b", "v2", spec),
            "the canary cannot be chosen: the canary selector zone=z matches none of the declared nodes");
  EXPECT_EQ(published.size(), before);
}

}  // namespace
}  // namespace tollway::control::rollout
