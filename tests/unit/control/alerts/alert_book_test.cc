#include "control/alerts/alert_book.h"

#include <gtest/gtest.h>

namespace tollway::control {
namespace {

using namespace std::chrono_literals;

AlertCondition stale(std::string node) {
  return {"TollwayControlNodesStale", "warning", node, "Node " + node + " is STALE", 10min};
}

TEST(AlertBookTest, AConditionFiresOnceItHeldForItsHoldTimeAndKeepsItsSince) {
  AlertBook book;
  const auto t0 = Clock::now();
  EXPECT_TRUE(book.update({stale("gw-a")}, t0).fired.empty());
  EXPECT_TRUE(book.update({stale("gw-a")}, t0 + 9min).fired.empty());
  EXPECT_TRUE(book.firing().empty());
  const auto changes = book.update({stale("gw-a")}, t0 + 10min);
  ASSERT_EQ(changes.fired.size(), 1u);
  EXPECT_EQ(changes.fired[0].since, t0);
  ASSERT_EQ(book.firing().size(), 1u);
  EXPECT_TRUE(book.update({stale("gw-a")}, t0 + 11min).fired.empty());  // fired once
  EXPECT_EQ(book.firing()[0]->since, t0);
}

TEST(AlertBookTest, AConditionThatStopsHoldingIsResolvedAndStartsOverNextTime) {
  AlertBook book;
  const auto t0 = Clock::now();
  AlertCondition exhausted{"TollwayBudgetExhausted", "critical", "budget|b|2026-05", "exhausted", 0s};
  ASSERT_EQ(book.update({exhausted, stale("gw-a")}, t0).fired.size(), 1u);  // no hold: fires at once
  const auto changes = book.update({stale("gw-a")}, t0 + 1s);
  ASSERT_EQ(changes.resolved.size(), 1u);
  EXPECT_EQ(changes.resolved[0].condition.name, "TollwayBudgetExhausted");
  book.update({}, t0 + 2s);  // gw-a no longer STALE: pending is forgotten
  book.update({stale("gw-a")}, t0 + 3s);
  EXPECT_TRUE(book.update({stale("gw-a")}, t0 + 10min).fired.empty());
  EXPECT_EQ(book.update({stale("gw-a")}, t0 + 10min + 3s).fired.size(), 1u);
}

TEST(AlertBookTest, FiringJsonListsNameSeveritySubjectSinceAndMessage) {
  AlertBook book;
  const Clock::time_point t0{std::chrono::seconds(1'780'000'000)};
  book.update({{"TollwayBudget80Percent", "warning", "budget|b|2026-05", "Leased budget budget|b|2026-05 is 85% spent", 0s}},
              t0);
  EXPECT_EQ(book.firing_json(),
            "[{\"name\":\"TollwayBudget80Percent\",\"severity\":\"warning\",\"subject\":\"budget|b|2026-05\","
            "\"since\":\"2026-05-28T20:26:40Z\",\"message\":\"Leased budget budget|b|2026-05 is 85% spent\"}]");
}

}  // namespace
}  // namespace tollway::control
