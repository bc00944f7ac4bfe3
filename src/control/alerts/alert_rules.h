// AlertRules: the alerts the control plane can see in its own state, with the names, severities, thresholds and
// `for` durations of deploy/prometheus/rules.yml where they overlap — a leased budget key at 80 % and at 100 % of its
// limit, a node in ERROR (NACK) or STALE, a node drifted, an unmanaged node whose file differs from the policy, a
// node certificate close to expiry. Per node where the rules count nodes (the subject names the node). Evaluation is
// a pure function of the fleet, the lease book's keys and the time: it says which conditions hold now, each with how
// long it must hold before it fires. It never keeps state (AlertBook does), never pages anyone (Prometheus and
// Alertmanager with deploy/ rules remain the paging path) and never uses a threshold the rules file does not have.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "control/fleet.h"
#include "control/leases/lease_book.h"

namespace tollway::control {

struct AlertCondition {
  std::string name;      // the alert's name in deploy/prometheus/rules.yml
  std::string severity;  // "warning" or "critical", as the rule labels it
  std::string subject;   // what it is about: a node's id or a budget key
  std::string message;
  std::chrono::seconds hold{0};  // the rule's `for`: how long it holds before it fires
};

// Certificates of nodes seen DISCONNECTED are not judged: Prometheus no longer scrapes a node that is gone either.
std::vector<AlertCondition> alert_conditions(const Fleet& fleet,
                                             const std::map<std::string, leases::BudgetKeyState, std::less<>>& budgets,
                                             Clock::time_point now);

// "5h 12m", "12m", "45s": a duration as the dashboard and the alert messages say it.
std::string duration_text(std::chrono::seconds d);

}  // namespace tollway::control
