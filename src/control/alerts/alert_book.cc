#include "control/alerts/alert_book.h"

#include "control/ca/identity_store.h"
#include "core/json.h"

namespace tollway::control {

AlertBook::Changes AlertBook::update(std::vector<AlertCondition> holding, Clock::time_point now) {
  Changes changes;
  std::map<std::pair<std::string, std::string>, Alert> next;
  for (auto& condition : holding) {
    std::pair<std::string, std::string> id{condition.name, condition.subject};
    Alert alert{std::move(condition), now, false};
    if (const auto before = alerts_.find(id); before != alerts_.end()) {
      alert.since = before->second.since;
      alert.firing = before->second.firing;
    }
    if (!alert.firing && now - alert.since >= alert.condition.hold) {
      alert.firing = true;
      changes.fired.push_back(alert);
    }
    next.insert_or_assign(std::move(id), std::move(alert));
  }
  for (const auto& [id, alert] : alerts_)
    if (alert.firing && !next.contains(id)) changes.resolved.push_back(alert);
  alerts_ = std::move(next);
  return changes;
}

std::vector<const AlertBook::Alert*> AlertBook::firing() const {
  std::vector<const Alert*> out;
  for (const auto& [id, alert] : alerts_)
    if (alert.firing) out.push_back(&alert);
  return out;
}

std::string AlertBook::firing_json() const {
  std::string list = "[";
  for (const Alert* alert : firing()) {
    if (list.size() > 1) list += ',';
    json::ObjectWriter w;
    w.field("name", alert->condition.name)
        .field("severity", alert->condition.severity)
        .field("subject", alert->condition.subject)
        .field("since", utc_text(alert->since))
        .field("message", alert->condition.message);
    list += std::move(w).finish();
  }
  return list + "]";
}

}  // namespace tollway::control
