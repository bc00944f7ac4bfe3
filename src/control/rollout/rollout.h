// Rollout: one version in canary — which nodes run it (the canary) and which keep the stable version (the
// baseline), what each node reported on its polls (requests, 5xx errors and 401/403/429 denials answered since it
// applied the version it runs), and the verdict at a given time: keep holding, promote (the hold is over, the
// canary answered at least min_requests and its rates stayed within the thresholds above the baseline's), or roll
// back (a rate rose past its threshold, or a canary node refused the version). The baseline's rates count from the
// canary's start. Pure bookkeeping, times passed in: it never publishes, persists or logs (RolloutCoordinator does).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "control/rollout/rollout_spec.h"

namespace tollway::control::rollout {

using Clock = std::chrono::system_clock;

enum class Phase { Canary, Promoted, RolledBack, Superseded };
std::string_view phase_name(Phase phase);  // "canary", "promoted", "rolled_back", "superseded"
std::optional<Phase> phase_of(std::string_view name);

// What a node answered, as it says on a poll.
struct Counts {
  uint64_t requests = 0, errors = 0, denials = 0;
  Counts& operator+=(const Counts& o) {
    requests += o.requests;
    errors += o.errors;
    denials += o.denials;
    return *this;
  }
};

// A rollout as the history keeps it.
struct RolloutRecord {
  std::string revision;                   // the version in canary
  std::string stable;                     // the version the baseline keeps (and the canary gets back)
  std::vector<std::string> canary_nodes;  // sorted
  RolloutSpec spec;
  Phase phase = Phase::Canary;
  int64_t started_ms = 0;  // Unix ms
  int64_t ended_ms = 0;    // 0 while in canary
  std::string reason;      // why it ended
};

class Rollout {
 public:
  // `node_versions`: the document version each node is judged on — the candidate's for canary nodes, the stable
  // one's for the baseline. Reports of any other version are not counted.
  Rollout(RolloutRecord record, std::map<std::string, std::string> node_versions);

  const RolloutRecord& record() const { return record_; }
  bool is_canary(std::string_view node) const;
  // A poll: `node` runs `version` and answered `counts` since it applied it.
  void report(std::string_view node, std::string_view version, const Counts& counts);
  // A canary node refused the candidate (its NACK reason).
  void refused(std::string_view node, std::string_view reason);

  struct Verdict {
    Phase phase = Phase::Canary;  // Canary: keep holding
    std::string reason;           // for Promoted and RolledBack; for Canary what it waits for
  };
  Verdict judge(Clock::time_point now) const;

  Counts canary_counts() const;
  Counts baseline_counts() const;
  std::chrono::milliseconds hold_left(Clock::time_point now) const;
  // {revision, stable, phase, canary_nodes, baseline_nodes, spec, started_at, hold_left_s, canary:{requests,
  // errors, denials, error_rate, deny_rate}, baseline:{…}, waiting_for}
  std::string status_json(Clock::time_point now) const;

 private:
  struct NodeCounts {
    bool seen = false;
    Counts start, last, carried;  // counts = carried + (last − start); a restarted node carries what it had
  };
  Counts total(bool canary) const;

  RolloutRecord record_;
  std::set<std::string, std::less<>> canary_;
  std::map<std::string, std::string, std::less<>> node_versions_;
  std::map<std::string, NodeCounts, std::less<>> counts_;
  std::string refusal_;  // the first canary NACK, "node N refused it: reason"
};

// "100.0%": a fraction as a percentage with one decimal.
std::string rate_text(double fraction);
// "Unix ms" as RFC 3339 UTC.
std::string utc_text_ms(int64_t unix_ms);
int64_t unix_ms(Clock::time_point t);

}  // namespace tollway::control::rollout
