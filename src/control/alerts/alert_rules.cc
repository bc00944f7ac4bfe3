#include "control/alerts/alert_rules.h"

#include <cmath>

namespace tollway::control {
namespace {

using namespace std::chrono_literals;

// deploy/prometheus/rules.yml, group tollway.control and tollway.certificates.
constexpr double kBudgetWarnShare = 0.8;                 // TollwayBudget80Percent: used_ratio >= 0.8 < 1
constexpr auto kErrorHold = 5min;                        // TollwayControlNodesInError: for 5m
constexpr auto kStaleHold = 10min;                       // TollwayControlNodesStale: for 10m
constexpr auto kUnmanagedDriftHold = 15min;              // TollwayUnmanagedNodeDrifted: for 15m
constexpr auto kCertificateSoon = std::chrono::hours(6);  // TollwayIdentityCertificateExpiringSoon: < 6 h for 10m
constexpr auto kCertificateSoonHold = 10min;
constexpr auto kCertificateExpiring = std::chrono::hours(1);  // TollwayIdentityCertificateExpiring: < 1 h

int64_t unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void budget_alerts(const std::map<std::string, leases::BudgetKeyState, std::less<>>& budgets, Clock::time_point now,
                   std::vector<AlertCondition>& out) {
  for (const auto& [key, state] : budgets) {
    const auto totals = leases::LeaseBook::totals(state, unix_ms(now));
    if (totals.limit <= 0) continue;
    const double share = static_cast<double>(totals.spent) / static_cast<double>(totals.limit);
    if (share >= 1)
      out.push_back({"TollwayBudgetExhausted", "critical", key, "Leased budget " + key + " is exhausted", 0s});
    else if (share >= kBudgetWarnShare)
      out.push_back({"TollwayBudget80Percent", "warning", key,
                     "Leased budget " + key + " is " + std::to_string(static_cast<int>(std::floor(share * 100))) +
                         "% spent",
                     0s});
  }
}

void node_alerts(const Fleet& fleet, Clock::time_point now, std::vector<AlertCondition>& out) {
  for (const auto& [id, record] : fleet.nodes()) {
    const NodeState state = fleet.state(record, now);
    if (state == NodeState::Error)
      out.push_back({"TollwayControlNodesInError", "warning", id,
                     "Node " + id + " NACKed its desired version: " + record.nack_reason, kErrorHold});
    if (state == NodeState::Stale)
      out.push_back({"TollwayControlNodesStale", "warning", id, "Node " + id + " is STALE", kStaleHold});
    if (fleet.drifted(record, now))
      out.push_back({"TollwayNodeDrifted", "critical", id, "Node " + id + " drifted from the policy", 0s});
    if (state == NodeState::Unmanaged && !Fleet::matches_policy(record))
      out.push_back({"TollwayUnmanagedNodeDrifted", "warning", id,
                     "Node " + id + " runs from its own file and differs from the policy", kUnmanagedDriftHold});
    if (!record.certificate || state == NodeState::Disconnected) continue;
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(record.certificate->not_after - now);
    const std::string expires = left.count() > 0 ? "expires in " + duration_text(left) : "has expired";
    if (left < kCertificateSoon)
      out.push_back({"TollwayIdentityCertificateExpiringSoon", "warning", id,
                     id + ": its SPIFFE certificate " + expires, kCertificateSoonHold});
    if (left < kCertificateExpiring)
      out.push_back({"TollwayIdentityCertificateExpiring", "critical", id, id + ": its SPIFFE certificate " + expires,
                     0s});
  }
}

}  // namespace

std::string duration_text(std::chrono::seconds d) {
  const int64_t s = std::max<int64_t>(0, d.count());
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
}

std::vector<AlertCondition> alert_conditions(const Fleet& fleet,
                                             const std::map<std::string, leases::BudgetKeyState, std::less<>>& budgets,
                                             Clock::time_point now) {
  std::vector<AlertCondition> out;
  budget_alerts(budgets, now, out);
  node_alerts(fleet, now, out);
  return out;
}

}  // namespace tollway::control
