// AlertBook: the control plane's alerts over time, as Prometheus keeps them — a condition that holds is pending from
// the first evaluation that saw it (`since`) and fires once it has held for its rule's hold time; one that stops
// holding is resolved and forgotten. GET /v1/alerts and the dashboard read the firing ones. Plain data on the control
// thread, times passed in: it never evaluates a rule itself (AlertRules does), never does I/O and never logs.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/alerts/alert_rules.h"

namespace tollway::control {

class AlertBook {
 public:
  struct Alert {
    AlertCondition condition;
    Clock::time_point since;  // when the condition was first seen holding
    bool firing = false;
  };
  // What one update changed: alerts that started firing and firing alerts that were resolved.
  struct Changes {
    std::vector<Alert> fired, resolved;
  };

  // `holding`: every condition that holds at `now` (one per name and subject). Keeps the `since` of those that held
  // at the previous update; forgets the others.
  Changes update(std::vector<AlertCondition> holding, Clock::time_point now);
  // The firing alerts, by name then subject.
  std::vector<const Alert*> firing() const;
  // The firing alerts as a JSON array of {name, severity, subject, since, message} (since in RFC 3339 UTC).
  std::string firing_json() const;

 private:
  std::map<std::pair<std::string, std::string>, Alert> alerts_;  // by name and subject
};

}  // namespace tollway::control
