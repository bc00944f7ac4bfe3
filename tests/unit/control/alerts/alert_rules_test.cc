#include "control/alerts/alert_rules.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tollway::control {
namespace {

using namespace std::chrono_literals;
using Budgets = std::map<std::string, leases::BudgetKeyState, std::less<>>;

CheckedPolicy policy_for(const std::vector<std::string>& ids, const std::string& version) {
  CheckedPolicy p;
  for (const auto& id : ids) {
    DeclaredNode n;
    n.id = id;
    n.token_sha256 = std::string(64, '0');
    p.nodes.push_back(n);
    NodeDocument d;
    d.node = id;
    d.bytes = "version: 1\n# " + version + "\n";
    d.version = version + "-" + id;
    d.content_version = "c-" + version;
    p.documents.push_back(d);
  }
  return p;
}

const AlertCondition* find(const std::vector<AlertCondition>& all, std::string_view name, std::string_view subject) {
  const auto it = std::find_if(all.begin(), all.end(),
                               [&](const AlertCondition& c) { return c.name == name && c.subject == subject; });
  return it == all.end() ? nullptr : &*it;
}

class AlertRulesTest : public ::testing::Test {
 protected:
  Budgets budget(int64_t limit, int64_t spent) {
    Budgets b;
    b["budget|team|tenant|acme|2026-05"].limit = limit;
    b["budget|team|tenant|acme|2026-05"].holders["gw-a/1"].used = spent;
    return b;
  }
  Fleet fleet{30s, 5min};
  Clock::time_point now = Clock::now();
};

TEST_F(AlertRulesTest, ALeasedBudgetWarnsFromEightyPercentAndIsExhaustedAtItsLimit) {
  const std::string key = "budget|team|tenant|acme|2026-05";
  EXPECT_TRUE(alert_conditions(fleet, budget(1000, 799), now).empty());
  const auto warn = alert_conditions(fleet, budget(1000, 856), now);
  ASSERT_EQ(warn.size(), 1u);
  EXPECT_EQ(warn[0].name, "TollwayBudget80Percent");
  EXPECT_EQ(warn[0].severity, "warning");
  EXPECT_EQ(warn[0].subject, key);
  EXPECT_EQ(warn[0].message, "Leased budget " + key + " is 85% spent");
  EXPECT_EQ(warn[0].hold, 0s);
  const auto spent = alert_conditions(fleet, budget(1000, 1000), now);
  ASSERT_EQ(spent.size(), 1u);
  EXPECT_EQ(spent[0].name, "TollwayBudgetExhausted");
  EXPECT_EQ(spent[0].severity, "critical");
}

TEST_F(AlertRulesTest, ANackedNodeIsInErrorForFiveMinutesAStaleOneForTen) {
  fleet.publish(policy_for({"gw-a", "gw-b"}, "v1"));
  fleet.poll_started("gw-a", "", "", now);
  fleet.poll_started("gw-b", "", "", now);
  const std::string nonce = fleet.issue("gw-a", now);
  fleet.issue("gw-b", now);
  ASSERT_EQ(fleet.acknowledge("gw-a", "v1-gw-a", nonce, std::string("pricing.file: cannot read"), now), "");
  const auto all = alert_conditions(fleet, {}, now);
  const auto* error = find(all, "TollwayControlNodesInError", "gw-a");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->hold, 5min);
  EXPECT_EQ(error->message, "Node gw-a NACKed its desired version: pricing.file: cannot read");
  const auto* stale = find(all, "TollwayControlNodesStale", "gw-b");
  ASSERT_NE(stale, nullptr);
  EXPECT_EQ(stale->hold, 10min);
  EXPECT_EQ(find(all, "TollwayNodeDrifted", "gw-a"), nullptr);
  // Past drift_after (5 min) both are drifted as well.
  const auto later = alert_conditions(fleet, {}, now + 6min);
  EXPECT_NE(find(later, "TollwayNodeDrifted", "gw-a"), nullptr);
  EXPECT_NE(find(later, "TollwayNodeDrifted", "gw-b"), nullptr);
}

TEST_F(AlertRulesTest, ACertificateWarnsUnderSixHoursAndIsCriticalUnderOne) {
  fleet.publish(policy_for({"gw-a"}, "v1"));
  fleet.poll_started("gw-a", "", "", now);
  fleet.certificate("gw-a", {now - 20h, now + 6h + 1s});
  EXPECT_EQ(find(alert_conditions(fleet, {}, now), "TollwayIdentityCertificateExpiringSoon", "gw-a"), nullptr);
  fleet.certificate("gw-a", {now - 20h, now + 5h + 30min});
  auto all = alert_conditions(fleet, {}, now);
  const auto* soon = find(all, "TollwayIdentityCertificateExpiringSoon", "gw-a");
  ASSERT_NE(soon, nullptr);
  EXPECT_EQ(soon->hold, 10min);
  EXPECT_EQ(soon->message, "gw-a: its SPIFFE certificate expires in 5h 30m");
  EXPECT_EQ(find(all, "TollwayIdentityCertificateExpiring", "gw-a"), nullptr);
  fleet.certificate("gw-a", {now - 20h, now + 59min});
  all = alert_conditions(fleet, {}, now);
  EXPECT_NE(find(all, "TollwayIdentityCertificateExpiringSoon", "gw-a"), nullptr);
  const auto* expiring = find(all, "TollwayIdentityCertificateExpiring", "gw-a");
  ASSERT_NE(expiring, nullptr);
  EXPECT_EQ(expiring->severity, "critical");
  // A node that is gone (no poll for two poll timeouts) is not judged.
  fleet.poll_ended("gw-a", now);
  EXPECT_EQ(find(alert_conditions(fleet, {}, now + 2min), "TollwayIdentityCertificateExpiring", "gw-a"), nullptr);
}

TEST(DurationTextTest, HoursAndMinutes) {
  EXPECT_EQ(duration_text(45s), "45s");
  EXPECT_EQ(duration_text(12min), "12m");
  EXPECT_EQ(duration_text(5h + 12min + 40s), "5h 12m");
}

}  // namespace
}  // namespace tollway::control
