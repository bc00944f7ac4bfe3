// RolloutCoordinator: the control plane's staged rollouts. Given each checked version (and its RolloutSpec, from
// rollout.yaml or `publish --canary`), it publishes it whole, or — when a stable version runs and the spec asks
// for a canary — publishes a fleet in which only the canary nodes get it and every other node keeps the stable
// version's document; then, on the one-second beat, promotes it (everyone gets it), rolls it back (the canary
// nodes get the stable document again; the version is not offered again until a newer one is published) or
// leaves it holding, as Rollout judges; a newer version supersedes a canary. Every start and end is written to the
// RolloutLog before the fleet changes, and logged. On a restart it resumes what the log says. It never publishes a
// version that failed the check (it is handed checked ones) and never sends a canary version to a baseline node
// before promotion.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control/fleet.h"
#include "control/policy_check.h"
#include "control/rollout/rollout.h"
#include "control/rollout/rollout_log.h"

namespace tollway::control::rollout {

// While a canary is judged, a waiting poll is answered (304) after at most this long, so every node reports its
// counts this often.
inline constexpr std::chrono::milliseconds kCanaryReportInterval{1000};

class RolloutCoordinator {
 public:
  // Makes `policy` what the WatchApi serves, as revision `revision`.
  using Publish = std::function<void(const CheckedPolicy& policy, const std::string& revision)>;
  // A recorded version, checked again; nullopt with `error`.
  using LoadVersion = std::function<std::optional<CheckedPolicy>(const std::string& revision, std::string& error)>;

  RolloutCoordinator(RolloutLog& log, LoadVersion load, Publish publish)
      : log_(log), load_(std::move(load)), publish_(std::move(publish)) {}

  // Publishes the checked version `revision` (whole, as a canary, or — rolled back before a restart — the stable
  // version instead). `new_version`: recorded just now (false: read again at a restart). Returns "" or why nothing
  // was published.
  std::string accept(const CheckedPolicy& policy, const std::optional<RolloutSpec>& spec, const std::string& revision,
                     bool new_version, Clock::time_point now);
  // The one-second beat: canary NACKs from the fleet, then the verdict; promotes or rolls back.
  void tick(const Fleet& fleet, Clock::time_point now);
  // A poll: `node` runs `version` and answered `counts` since it applied it.
  void report(std::string_view node, std::string_view version, const Counts& counts);

  bool judging() const { return current_ != nullptr; }
  // Whether a version was published whole (or promoted) since the start: the one a canary runs beside.
  bool has_stable() const { return stable_.has_value(); }
  // The revision `node`'s snapshot comes from (the stable one for a baseline node during a canary).
  std::string revision_for(std::string_view node, const std::string& published) const;
  // /v1/fleet's "rollout": the canary in progress, else the last rollout that ended since the start (or null).
  std::string status_json(Clock::time_point now) const;
  void render_metrics(std::string& out, Clock::time_point now) const;

 private:
  void publish_whole(const CheckedPolicy& policy, const std::string& revision);
  std::string start_canary(const CheckedPolicy& policy, const RolloutSpec& spec, const std::string& revision,
                           std::vector<std::string> canary_nodes, int64_t started_ms);
  void end(Phase phase, const std::string& reason, Clock::time_point now);

  RolloutLog& log_;
  LoadVersion load_;
  Publish publish_;
  std::optional<CheckedPolicy> stable_;  // the version every node runs when no canary is in progress
  std::string stable_revision_;
  std::optional<CheckedPolicy> candidate_;  // the version in canary
  std::unique_ptr<Rollout> current_;
  std::optional<RolloutRecord> last_ended_;
  uint64_t promoted_ = 0, rolled_back_ = 0, superseded_ = 0;
};

}  // namespace tollway::control::rollout
