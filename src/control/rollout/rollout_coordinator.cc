#include "control/rollout/rollout_coordinator.h"

#include <set>

#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"

namespace tollway::control::rollout {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// Whether some node's document in `next` differs from what `current` gives it (or the node is new).
bool any_document_changes(const CheckedPolicy& current, const CheckedPolicy& next) {
  std::map<std::string, std::string> before;
  for (std::size_t i = 0; i < current.nodes.size(); ++i) before[current.nodes[i].id] = current.documents[i].version;
  for (std::size_t i = 0; i < next.nodes.size(); ++i) {
    const auto it = before.find(next.nodes[i].id);
    if (it == before.end() || it->second != next.documents[i].version) return true;
  }
  return false;
}

}  // namespace

void RolloutCoordinator::publish_whole(const CheckedPolicy& policy, const std::string& revision) {
  publish_(policy, revision);
}

std::string RolloutCoordinator::accept(const CheckedPolicy& policy, const std::optional<RolloutSpec>& spec,
                                       const std::string& revision, bool new_version, Clock::time_point now) {
  if (current_ && current_->record().revision == revision) return {};  // the canary's own version, read again
  std::string error;
  const auto row = log_.find(revision, error);
  if (!error.empty()) return "the rollout log cannot be read: " + error;
  if (row && !new_version && (row->phase == Phase::Canary || row->phase == Phase::RolledBack)) {
    auto stable = load_(row->stable, error);
    if (!stable)
      return "version " + revision + " is " + std::string(phase_name(row->phase)) + " beside the stable version " +
             row->stable + ", which cannot be loaded (" + error + "): nothing published";
    stable_ = std::move(*stable);
    stable_revision_ = row->stable;
    if (row->phase == Phase::RolledBack) {
      last_ended_ = *row;
      log::info("version rolled back before the restart: serving the stable version",
                json::ObjectWriter().field("revision", revision).field("stable", row->stable).field("reason", row->reason));
      publish_whole(*stable_, stable_revision_);
      return {};
    }
    log::info("resuming the canary recorded before the restart (its counts begin again)",
              json::ObjectWriter().field("revision", revision).field("stable", row->stable));
    return start_canary(policy, row->spec, revision, row->canary_nodes, row->started_ms);
  }
  if (new_version && spec && stable_ && any_document_changes(*stable_, policy)) {
    auto canary_nodes = select_canary(spec->canary, policy.nodes, error);
    if (!canary_nodes) return "the canary cannot be chosen: " + error;
    if (current_) end(Phase::Superseded, "superseded by " + revision + ", a newer version in canary", now);
    return start_canary(policy, *spec, revision, std::move(*canary_nodes), unix_ms(now));
  }
  if (current_)
    end(Phase::Superseded, "superseded by " + revision + ", published to every node without a canary", now);
  stable_ = policy;
  stable_revision_ = revision;
  publish_whole(policy, revision);
  return {};
}

std::string RolloutCoordinator::start_canary(const CheckedPolicy& policy, const RolloutSpec& spec,
                                             const std::string& revision, std::vector<std::string> canary_nodes,
                                             int64_t started_ms) {
  std::set<std::string> canary(canary_nodes.begin(), canary_nodes.end());
  std::map<std::string, std::size_t> stable_index;
  for (std::size_t i = 0; i < stable_->nodes.size(); ++i) stable_index[stable_->nodes[i].id] = i;
  CheckedPolicy fleet;
  fleet.content_hash = policy.content_hash;
  std::map<std::string, std::string> node_versions;
  for (std::size_t i = 0; i < policy.nodes.size(); ++i) {
    const std::string& id = policy.nodes[i].id;
    const auto s = stable_index.find(id);
    if (canary.count(id) || s == stable_index.end()) {
      canary.insert(id);  // a node new in this version has no stable document to keep: it is in the canary
      fleet.nodes.push_back(policy.nodes[i]);
      fleet.documents.push_back(policy.documents[i]);
      node_versions[id] = policy.documents[i].version;
    } else {
      // A baseline node sees nothing of the candidate, not even its own entry in nodes.yaml.
      fleet.nodes.push_back(stable_->nodes[s->second]);
      fleet.documents.push_back(stable_->documents[s->second]);
      node_versions[id] = stable_->documents[s->second].version;
    }
    if (s != stable_index.end()) stable_index.erase(s);
  }
  for (const auto& [id, i] : stable_index) {  // removed by the candidate: kept on the stable version until promotion
    fleet.nodes.push_back(stable_->nodes[i]);
    fleet.documents.push_back(stable_->documents[i]);
    node_versions[id] = stable_->documents[i].version;
  }
  RolloutRecord record;
  record.revision = revision;
  record.stable = stable_revision_;
  record.canary_nodes.assign(canary.begin(), canary.end());
  record.spec = spec;
  record.started_ms = started_ms;
  std::string error;
  if (!log_.start(record, error)) {
    publish_(*stable_, stable_revision_);  // whatever canary ran before is over: every node on the stable version
    return "the canary cannot be recorded, so it is not started: " + error;
  }
  log::info("canary started: only the canary nodes get the version",
            json::ObjectWriter()
                .field("revision", revision)
                .field("stable", stable_revision_)
                .field("canary_nodes", joined(record.canary_nodes))
                .field("canary", spec.canary.text())
                .field("hold_ms", static_cast<int64_t>(spec.hold.count()))
                .field("min_requests", spec.min_requests));
  candidate_ = policy;
  current_ = std::make_unique<Rollout>(std::move(record), std::move(node_versions));
  publish_(fleet, revision);
  return {};
}

void RolloutCoordinator::end(Phase phase, const std::string& reason, Clock::time_point now) {
  RolloutRecord record = current_->record();
  record.phase = phase;
  record.ended_ms = unix_ms(now);
  record.reason = reason;
  std::string error;
  if (!log_.finish(record.revision, phase, record.ended_ms, reason, error))
    log::error("the rollout's end cannot be recorded", json::ObjectWriter().field("revision", record.revision).field("error", error));
  json::ObjectWriter fields;
  fields.field("revision", record.revision).field("stable", record.stable).field("reason", reason);
  switch (phase) {
    case Phase::Promoted:
      ++promoted_;
      stable_ = std::move(candidate_);
      stable_revision_ = record.revision;
      log::info("canary promoted: every node gets the version", std::move(fields));
      publish_whole(*stable_, stable_revision_);
      break;
    case Phase::RolledBack:
      ++rolled_back_;
      log::warn("canary rolled back: the canary nodes get the stable version again", std::move(fields));
      publish_whole(*stable_, stable_revision_);
      break;
    case Phase::Superseded:
    case Phase::Canary:
      ++superseded_;
      log::info("canary superseded", std::move(fields));
      break;
  }
  last_ended_ = std::move(record);
  current_.reset();
  candidate_.reset();
}

void RolloutCoordinator::tick(const Fleet& fleet, Clock::time_point now) {
  if (!current_) return;
  for (const auto& id : current_->record().canary_nodes) {
    const NodeRecord* node = fleet.find(id);
    if (node && !node->nacked_version.empty() && node->nacked_version == node->desired_version)
      current_->refused(id, node->nack_reason);
  }
  const Rollout::Verdict verdict = current_->judge(now);
  if (verdict.phase != Phase::Canary) end(verdict.phase, verdict.reason, now);
}

void RolloutCoordinator::report(std::string_view node, std::string_view version, const Counts& counts) {
  if (current_) current_->report(node, version, counts);
}

std::string RolloutCoordinator::revision_for(std::string_view node, const std::string& published) const {
  return current_ && !current_->is_canary(node) ? stable_revision_ : published;
}

std::string RolloutCoordinator::status_json(Clock::time_point now) const {
  if (current_) return current_->status_json(now);
  if (last_ended_) return history_json(*last_ended_);
  return "null";
}

void RolloutCoordinator::render_metrics(std::string& out, Clock::time_point now) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_control_rollout_canary", "gauge", "1 while a version is in canary.");
  prometheus::sample(out, "tollway_control_rollout_canary", "", current_ ? 1 : 0);
  prometheus::family(out, "tollway_control_rollout_canary_nodes", "gauge", "Nodes in the canary in progress.");
  prometheus::sample(out, "tollway_control_rollout_canary_nodes", "",
                     current_ ? current_->record().canary_nodes.size() : 0);
  prometheus::family(out, "tollway_control_rollout_hold_left_seconds", "gauge",
                     "Time left in the hold of the canary in progress.");
  prometheus::sample_real(out, "tollway_control_rollout_hold_left_seconds", "",
                          current_ ? static_cast<double>(current_->hold_left(now).count()) / 1000.0 : 0.0);
  prometheus::family(out, "tollway_control_rollout_requests", "gauge",
                     "Requests the canary and the baseline nodes answered during the canary in progress.");
  prometheus::family(out, "tollway_control_rollout_rate", "gauge",
                     "Error (5xx) and deny (401/403/429) rates of the canary and the baseline during the canary in "
                     "progress.");
  if (current_) {
    for (const bool canary : {true, false}) {
      const Counts c = canary ? current_->canary_counts() : current_->baseline_counts();
      const char* group = canary ? "canary" : "baseline";
      prometheus::sample(out, "tollway_control_rollout_requests", prometheus::labels({{"group", group}}), c.requests);
      const double requests = c.requests == 0 ? 1.0 : static_cast<double>(c.requests);
      prometheus::sample_real(out, "tollway_control_rollout_rate", prometheus::labels({{"group", group}, {"kind", "error"}}),
                              static_cast<double>(c.errors) / requests);
      prometheus::sample_real(out, "tollway_control_rollout_rate", prometheus::labels({{"group", group}, {"kind", "deny"}}),
                              static_cast<double>(c.denials) / requests);
    }
  }
  prometheus::family(out, "tollway_control_rollouts_total", "counter",
                     "Canaries ended since the control plane started, by result.");
  prometheus::sample(out, "tollway_control_rollouts_total", prometheus::labels({{"result", "promoted"}}), promoted_);
  prometheus::sample(out, "tollway_control_rollouts_total", prometheus::labels({{"result", "rolled_back"}}), rolled_back_);
  prometheus::sample(out, "tollway_control_rollouts_total", prometheus::labels({{"result", "superseded"}}), superseded_);
}

}  // namespace tollway::control::rollout
