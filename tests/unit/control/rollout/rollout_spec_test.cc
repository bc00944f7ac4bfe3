#include "control/rollout/rollout_spec.h"

#include <gtest/gtest.h>

namespace tollway::control::rollout {
namespace {

using namespace std::chrono_literals;

std::vector<DeclaredNode> nodes(int n, const std::string& zone_a_prefix = "") {
  std::vector<DeclaredNode> out;
  for (int i = 0; i < n; ++i) {
    DeclaredNode node;
    node.id = "gw-" + std::to_string(i);
    node.labels = {{"zone", i % 2 == 0 ? zone_a_prefix + "a" : "b"}};
    out.push_back(node);
  }
  return out;
}

TEST(RolloutSpecTest, AnEmptyFileTakesEveryDefault) {
  std::vector<std::string> errors;
  const auto spec = parse_rollout_file("p/rollout.yaml", "", errors);
  ASSERT_TRUE(spec) << errors.front();
  EXPECT_EQ(spec->canary.percent, 10);
  EXPECT_TRUE(spec->canary.selector.empty());
  EXPECT_EQ(spec->hold, 5min);
  EXPECT_EQ(spec->min_requests, 100u);
  EXPECT_DOUBLE_EQ(spec->max_error_rate_increase, 0.01);
  EXPECT_DOUBLE_EQ(spec->max_deny_rate_increase, 0.05);
}

TEST(RolloutSpecTest, ReadsEveryField) {
  std::vector<std::string> errors;
  const auto spec = parse_rollout_file(
      "p/rollout.yaml",
      "canary:\n  selector: {zone: a, tier: edge}\nhold: 30s\nmin_requests: 40\nthresholds:\n  error_rate: 0.5%\n"
      "  deny_rate: 10%\n",
      errors);
  ASSERT_TRUE(spec) << errors.front();
  EXPECT_EQ(spec->canary.selector, (std::map<std::string, std::string>{{"tier", "edge"}, {"zone", "a"}}));
  EXPECT_EQ(spec->canary.text(), "tier=edge,zone=a");
  EXPECT_EQ(spec->hold, 30s);
  EXPECT_EQ(spec->min_requests, 40u);
  EXPECT_DOUBLE_EQ(spec->max_error_rate_increase, 0.005);
  EXPECT_DOUBLE_EQ(spec->max_deny_rate_increase, 0.10);
}

TEST(RolloutSpecTest, BadInputNamesTheFileTheLineAndTheKey) {
  std::vector<std::string> errors;
  EXPECT_FALSE(parse_rollout_file("p/rollout.yaml",
                                  "canary:\n  percent: 0\nhold: -5s\nmin_requests: 0\nthresholds:\n  deny_rate: 5\n"
                                  "  latency: 1%\nsteps: 3\n",
                                  errors));
  const std::vector<std::string> expected = {
      "p/rollout.yaml:8: steps: unknown key (allowed: canary, hold, min_requests, thresholds)",
      "p/rollout.yaml:2: canary.percent: \"0\" is not a percentage of nodes from 1 to 99 (a canary of every node or of "
      "none compares nothing)",
      "p/rollout.yaml:3: hold: \"-5s\" is negative: the canary holds for a duration of 0s or more",
      "p/rollout.yaml:4: min_requests: must be a whole number from 1 to 100000000: the requests the canary nodes answer "
      "before they are judged",
      "p/rollout.yaml:7: thresholds.latency: unknown key (allowed: deny_rate, error_rate)",
      "p/rollout.yaml:6: thresholds.deny_rate: must be a percentage from 0% to 100%, e.g. 5% (how far the canary's "
      "rate may rise above the other nodes')",
  };
  EXPECT_EQ(errors, expected);
  errors.clear();
  EXPECT_FALSE(parse_rollout_file("r.yaml", "canary:\n  percent: 10\n  selector: {zone: a}\n", errors));
  EXPECT_EQ(errors, std::vector<std::string>{"r.yaml:2: canary: give one of selector (labels) or percent (of the nodes)"});
  errors.clear();
  EXPECT_FALSE(parse_rollout_file("r.yaml", "canary: [a]\n", errors));
  EXPECT_EQ(errors.size(), 1u);
  errors.clear();
  EXPECT_FALSE(parse_rollout_file("r.yaml", "canary: {\n", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("YAML syntax error"), std::string::npos);
}

TEST(RolloutSpecTest, TheCanaryOptionTakesLabelsOrAPercentage) {
  std::string error;
  auto s = parse_canary_option("zone=a", error);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->selector, (std::map<std::string, std::string>{{"zone", "a"}}));
  s = parse_canary_option("zone=a,tier=edge", error);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->selector.size(), 2u);
  s = parse_canary_option("25%", error);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->selector.empty());
  EXPECT_EQ(s->percent, 25);
  for (const char* bad : {"0%", "100%", "-5%", "x%", "", "zone", "zone=", "=a", "zone=a,", "a b=c"}) {
    error.clear();
    EXPECT_FALSE(parse_canary_option(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  parse_canary_option("150%", error);
  EXPECT_EQ(error, "\"150%\" is not a percentage of nodes from 1 to 99 (a canary of every node or of none compares nothing)");
}

TEST(RolloutSpecTest, ASelectorMustMatchSomeNodesButNotAll) {
  std::string error;
  CanarySelection selection;
  selection.selector = {{"zone", "a"}};
  const auto chosen = select_canary(selection, nodes(4), error);
  ASSERT_TRUE(chosen) << error;
  EXPECT_EQ(*chosen, (std::vector<std::string>{"gw-0", "gw-2"}));
  selection.selector = {{"zone", "c"}};
  EXPECT_FALSE(select_canary(selection, nodes(4), error));
  EXPECT_EQ(error, "the canary selector zone=c matches none of the declared nodes");
  auto all_a = nodes(2);
  all_a[1].labels["zone"] = "a";
  selection.selector = {{"zone", "a"}};
  EXPECT_FALSE(select_canary(selection, all_a, error));
  EXPECT_EQ(error, "the canary selector zone=a matches every declared node: there would be no other nodes to compare it with");
  EXPECT_FALSE(select_canary(selection, nodes(1), error));
  EXPECT_EQ(error, "a canary needs at least two declared nodes: the canary and others to compare it with");
}

// A percentage takes ceil(N × p / 100) nodes, at least one and never all, by the hash of their IDs: the same nodes
// whatever their order, and a node added later does not move the others out unless it ranks before them.
TEST(RolloutSpecTest, APercentagePicksTheSameNodesByTheHashOfTheirIds) {
  std::string error;
  CanarySelection ten;
  ten.percent = 10;
  auto fleet = nodes(40);
  const auto chosen = select_canary(ten, fleet, error);
  ASSERT_TRUE(chosen) << error;
  EXPECT_EQ(chosen->size(), 4u);
  std::reverse(fleet.begin(), fleet.end());
  EXPECT_EQ(select_canary(ten, fleet, error), chosen);
  EXPECT_EQ(select_canary(ten, nodes(3), error)->size(), 1u);  // ceil(0.3) = 1
  CanarySelection most;
  most.percent = 99;
  EXPECT_EQ(select_canary(most, nodes(3), error)->size(), 2u);  // never every node
  CanarySelection half;
  half.percent = 50;
  EXPECT_EQ(select_canary(half, nodes(5), error)->size(), 3u);
  // The choice depends on the IDs only: 50% of 40 nodes includes the 10% above.
  half.percent = 50;
  const auto larger = select_canary(half, nodes(40), error);
  for (const auto& id : *chosen) EXPECT_NE(std::find(larger->begin(), larger->end(), id), larger->end()) << id;
}

// `publish --canary` replaces the file's canary and keeps its hold and thresholds; without a file, the defaults.
TEST(RolloutSpecTest, TheCanaryOptionOverridesTheFilesCanaryOnly) {
  std::string error;
  RolloutSpec file;
  file.hold = 2s;
  file.canary.percent = 50;
  const auto spec = spec_for(file, "zone=a", nodes(4), error);
  ASSERT_TRUE(spec) << error;
  EXPECT_EQ(spec->canary.text(), "zone=a");
  EXPECT_EQ(spec->hold, 2s);
  EXPECT_EQ(spec_for(std::nullopt, "25%", nodes(4), error)->hold, 5min);
  EXPECT_EQ(spec_for(file, "", nodes(4), error), file);
  EXPECT_FALSE(spec_for(std::nullopt, "", nodes(4), error));
  EXPECT_FALSE(spec_for(file, "zone=q", nodes(4), error));
  EXPECT_EQ(error, "the canary selector zone=q matches none of the declared nodes");
}

}  // namespace
}  // namespace tollway::control::rollout
