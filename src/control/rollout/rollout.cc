#include "control/rollout/rollout.h"

#include <cstdio>
#include <ctime>

#include "core/json.h"

namespace tollway::control::rollout {
namespace {

double rate(uint64_t part, uint64_t whole) { return whole == 0 ? 0.0 : static_cast<double>(part) / whole; }

// "+5%", "+0.5%".
std::string threshold_text(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "+%g%%", fraction * 100.0);
  return text;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char text[32];
  std::snprintf(text, sizeof text, "%gs", static_cast<double>(d.count()) / 1000.0);
  return text;
}

std::string counts_json(const Counts& c) {
  json::ObjectWriter w;
  w.field("requests", c.requests)
      .field("errors", c.errors)
      .field("denials", c.denials)
      .field("error_rate", rate(c.errors, c.requests))
      .field("deny_rate", rate(c.denials, c.requests));
  return std::move(w).finish();
}

std::string string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) out += (out.size() > 1 ? "," : "") + json::quoted(i);
  return out + "]";
}

}  // namespace

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::Canary: return "canary";
    case Phase::Promoted: return "promoted";
    case Phase::RolledBack: return "rolled_back";
    case Phase::Superseded: return "superseded";
  }
  return "unknown";
}

std::optional<Phase> phase_of(std::string_view name) {
  for (const Phase p : {Phase::Canary, Phase::Promoted, Phase::RolledBack, Phase::Superseded})
    if (phase_name(p) == name) return p;
  return std::nullopt;
}

std::string rate_text(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", fraction * 100.0);
  return text;
}

int64_t unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string utc_text_ms(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Rollout::Rollout(RolloutRecord record, std::map<std::string, std::string> node_versions)
    : record_(std::move(record)), node_versions_(node_versions.begin(), node_versions.end()) {
  canary_.insert(record_.canary_nodes.begin(), record_.canary_nodes.end());
}

bool Rollout::is_canary(std::string_view node) const { return canary_.find(node) != canary_.end(); }

void Rollout::report(std::string_view node, std::string_view version, const Counts& counts) {
  const auto expected = node_versions_.find(node);
  if (expected == node_versions_.end() || expected->second != version) return;
  NodeCounts& n = counts_[std::string(node)];
  if (!n.seen) {
    n.seen = true;
    // A canary node counts from when it applied the candidate (what it reports); the baseline from this report,
    // the canary's start as it sees it.
    if (!is_canary(node)) n.start = counts;
    n.last = counts;
    return;
  }
  if (counts.requests < n.last.requests || counts.errors < n.last.errors || counts.denials < n.last.denials) {
    // The node restarted (its counts began again): keep what it had answered.
    n.carried.requests += n.last.requests - n.start.requests;
    n.carried.errors += n.last.errors - n.start.errors;
    n.carried.denials += n.last.denials - n.start.denials;
    n.start = Counts{};
  }
  n.last = counts;
}

void Rollout::refused(std::string_view node, std::string_view reason) {
  if (!is_canary(node) || !refusal_.empty()) return;
  refusal_ = "canary node " + std::string(node) + " refused the version: " + std::string(reason);
}

Counts Rollout::total(bool canary) const {
  Counts sum;
  for (const auto& [node, n] : counts_) {
    if (is_canary(node) != canary) continue;
    sum += n.carried;
    sum += Counts{n.last.requests - n.start.requests, n.last.errors - n.start.errors, n.last.denials - n.start.denials};
  }
  return sum;
}

Counts Rollout::canary_counts() const { return total(true); }
Counts Rollout::baseline_counts() const { return total(false); }

std::chrono::milliseconds Rollout::hold_left(Clock::time_point now) const {
  const auto left = std::chrono::milliseconds(record_.started_ms + record_.spec.hold.count() - unix_ms(now));
  return std::max(left, std::chrono::milliseconds(0));
}

Rollout::Verdict Rollout::judge(Clock::time_point now) const {
  if (!refusal_.empty()) return {Phase::RolledBack, refusal_};
  const RolloutSpec& spec = record_.spec;
  const Counts canary = canary_counts(), baseline = baseline_counts();
  if (canary.requests < spec.min_requests)
    return {Phase::Canary, "waiting for the canary to answer " + std::to_string(spec.min_requests - canary.requests) +
                               " more requests (" + std::to_string(canary.requests) + " of min_requests " +
                               std::to_string(spec.min_requests) + ")"};
  const double canary_deny = rate(canary.denials, canary.requests), baseline_deny = rate(baseline.denials, baseline.requests);
  const double canary_error = rate(canary.errors, canary.requests), baseline_error = rate(baseline.errors, baseline.requests);
  const std::string over = " over " + std::to_string(canary.requests) + " requests vs baseline ";
  if (canary_deny - baseline_deny > spec.max_deny_rate_increase)
    return {Phase::RolledBack, "canary deny rate " + rate_text(canary_deny) + over + rate_text(baseline_deny) +
                                   " (threshold " + threshold_text(spec.max_deny_rate_increase) + ")"};
  if (canary_error - baseline_error > spec.max_error_rate_increase)
    return {Phase::RolledBack, "canary error rate " + rate_text(canary_error) + over + rate_text(baseline_error) +
                                   " (threshold " + threshold_text(spec.max_error_rate_increase) + ")"};
  if (hold_left(now) > std::chrono::milliseconds(0))
    return {Phase::Canary, "holding " + seconds_text(hold_left(now)) + " more"};
  return {Phase::Promoted, "canary error rate " + rate_text(canary_error) + " and deny rate " + rate_text(canary_deny) +
                               over + rate_text(baseline_error) + " and " + rate_text(baseline_deny) + " over " +
                               std::to_string(baseline.requests) + " requests, within " +
                               threshold_text(spec.max_error_rate_increase) + " and " +
                               threshold_text(spec.max_deny_rate_increase) + " after a hold of " +
                               seconds_text(spec.hold)};
}

std::string Rollout::status_json(Clock::time_point now) const {
  std::vector<std::string> baseline;
  for (const auto& [node, version] : node_versions_)
    if (!is_canary(node)) baseline.push_back(node);
  const Verdict verdict = judge(now);
  json::ObjectWriter w;
  w.field("revision", record_.revision)
      .field("stable", record_.stable)
      .field("phase", phase_name(record_.phase))
      .raw_field("canary_nodes", string_list(record_.canary_nodes))
      .raw_field("baseline_nodes", string_list(baseline))
      .raw_field("spec", record_.spec.to_json())
      .field("started_at", utc_text_ms(record_.started_ms))
      .field("hold_left_s", static_cast<double>(hold_left(now).count()) / 1000.0)
      .raw_field("canary", counts_json(canary_counts()))
      .raw_field("baseline", counts_json(baseline_counts()))
      .field("waiting_for", verdict.phase == Phase::Canary ? verdict.reason : std::string());
  return std::move(w).finish();
}

}  // namespace tollway::control::rollout
