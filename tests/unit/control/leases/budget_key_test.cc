#include "control/leases/budget_key.h"

#include <gtest/gtest.h>

namespace tollway::control::leases {
namespace {

using Dimensions = std::vector<std::pair<std::string, std::string>>;

TEST(BudgetKeyTest, AGatewayKeyGivesItsDimensionsInOrderUnescaped) {
  const auto parts = parse_budget_key("budget|team-month|tenant|model|acme%7Cwest|gpt-4o%25|2026-05");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->budget, "team-month");
  EXPECT_EQ(parts->dimensions, (Dimensions{{"tenant", "acme|west"}, {"model", "gpt-4o%"}}));
  EXPECT_EQ(parts->period, "2026-05");
}

TEST(BudgetKeyTest, ABudgetWithoutDimensionsAndAValueNamedLikeADimension) {
  const auto plain = parse_budget_key("budget|shared|2026-05-17");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->dimensions.empty());
  EXPECT_EQ(plain->period, "2026-05-17");
  const auto odd = parse_budget_key("budget|b|tenant|agent|2026-05");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->dimensions, (Dimensions{{"tenant", "agent"}}));
}

TEST(BudgetKeyTest, ASidecarKeyWithItsNameValue) {
  const auto parts = parse_budget_key("budget|calls|from|spiffe://td/a|search|2026-05-17");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->dimensions, (Dimensions{{"from", "spiffe://td/a"}, {"name", "search"}}));
}

TEST(BudgetKeyTest, OtherKeysHaveNoParts) {
  EXPECT_FALSE(parse_budget_key("rate|r|tenant|acme"));
  EXPECT_FALSE(parse_budget_key("budget|"));
  EXPECT_FALSE(parse_budget_key("budget|b|x|y|z|2026-05"));  // three values and no dimension name
  EXPECT_EQ(budget_name("budget|team|tenant|acme|2026-05"), "team");
  EXPECT_EQ(budget_name("rate|team"), "");
}

}  // namespace
}  // namespace tollway::control::leases
