// The questionnaire file: every key read, errors with file:line and the allowed words, --priority assignments.
#include "advise/questionnaire.h"

#include <gtest/gtest.h>

namespace tollway::advise {
namespace {

TEST(Questionnaire, ReadsEveryKey) {
  const auto r = parse_questionnaire(
      "traffic: east-west\nteam_size: 40\nsre: dedicated\ncompliance: hipaa\nlimits: soft\n"
      "observability: per-call\npriorities: {topology: high, compliance: low}\n"
      "workload: {cpu_cores: 12.5, memory_mib: 24000}\n",
      "q.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  const Questionnaire& q = r.questionnaire;
  EXPECT_EQ(q.traffic, Traffic::EastWest);
  EXPECT_EQ(q.team_size, 40);
  EXPECT_EQ(q.sre, Sre::Dedicated);
  EXPECT_EQ(q.compliance, Compliance::Hipaa);
  EXPECT_EQ(q.limits, Limits::Soft);
  EXPECT_EQ(q.observability, Observability::PerCall);
  EXPECT_EQ(q.priority(Factor::Topology), Priority::High);
  EXPECT_EQ(q.priority(Factor::Compliance), Priority::Low);
  EXPECT_EQ(q.priority(Factor::Team), Priority::Medium);
  EXPECT_DOUBLE_EQ(*q.workload_cpu_cores, 12.5);
  EXPECT_DOUBLE_EQ(*q.workload_memory_mib, 24000);
}

TEST(Questionnaire, EmptyFileSaysNothing) {
  const auto r = parse_questionnaire("", "q.yaml");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.questionnaire.empty());
}

TEST(Questionnaire, ErrorsNameFileLineAndAllowedWords) {
  const auto r = parse_questionnaire("team_size: 6\nlimits: strictish\npriorities: {latency: high}\nteam: 3\n",
                                     "team.yaml");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].to_string().substr(0, 12), "team.yaml:4:");  // the unknown top-level key, found first
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("team.yaml:2: limits: \"strictish\" is not one of: hard, soft"), std::string::npos) << all;
  EXPECT_NE(all.find("team.yaml:3: priorities.latency: unknown key"), std::string::npos) << all;
}

TEST(Questionnaire, RejectsBadNumbersAndSyntax) {
  EXPECT_FALSE(parse_questionnaire("team_size: 0\n", "q").errors.empty());
  EXPECT_FALSE(parse_questionnaire("team_size: many\n", "q").errors.empty());
  EXPECT_FALSE(parse_questionnaire("workload: {cpu_cores: -1}\n", "q").errors.empty());
  const auto syntax = parse_questionnaire("traffic: [unclosed\n", "q.yaml");
  ASSERT_FALSE(syntax.errors.empty());
  EXPECT_NE(syntax.errors[0].message.find("YAML syntax error"), std::string::npos);
  // A key that is not a scalar is an error with its line, not an exception (a seed of fuzz_advise_questionnaire).
  const auto key = parse_questionnaire("{[a]: b}\n", "q.yaml");
  ASSERT_EQ(key.errors.size(), 1u);
  EXPECT_EQ(key.errors[0].to_string().rfind("q.yaml:1: ", 0), 0u) << key.errors[0].to_string();
}

TEST(Questionnaire, PriorityFlag) {
  Questionnaire q;
  std::string error;
  EXPECT_TRUE(set_priority(q, "limits=high", error));
  EXPECT_EQ(q.priority(Factor::Limits), Priority::High);
  EXPECT_FALSE(set_priority(q, "limits", error));
  EXPECT_FALSE(set_priority(q, "cost=high", error));
  EXPECT_NE(error.find("topology, team, limits, compliance, observability"), std::string::npos);
}

}  // namespace
}  // namespace tollway::advise
