// Fleet: what the control plane knows of each declared node — the version it should run (desired, from the
// published policy), the version it runs (applied: its ACKs and the `have` of its polls), its NACK and reason,
// the nonces issued with the snapshots it was sent, when it last polled and ACKed, its build — and the state that
// follows: SYNCED, STALE, ERROR, NOT_SENT or DISCONNECTED; UNMANAGED for a node that runs its own file and
// reports its content version (matching the policy's or drifted). A node STALE or in ERROR for longer than
// drift_after is drifted: counted in the metrics, and each crossing is returned once by update_drift. A node with an
// identity says its certificate's validity with each poll or report; the fleet keeps the latest. A node says its
// process's CPU time and resident memory with each poll; the fleet keeps the last two samples (CPU cores in use
// between them). Pure
// bookkeeping on the control thread, times passed in: it never does I/O, never logs and never decides what is
// published.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/policy_check.h"

namespace tollway::control {

using Clock = std::chrono::system_clock;

enum class NodeState { Synced, Stale, Error, NotSent, Disconnected, Unmanaged };
std::string_view state_name(NodeState state);

// An unmanaged node reports every 30 s (and after each reload); silent for this long it is DISCONNECTED.
inline constexpr std::chrono::seconds kUnmanagedSilence{180};

// A node certificate's validity, as the node last said it.
struct CertificatePeriod {
  Clock::time_point not_before, not_after;
};

// A node's process as it said on a poll: CPU time so far and resident memory.
struct ProcessSample {
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
  Clock::time_point at;
};

struct NodeRecord {
  DeclaredNode declared;
  std::string desired_version;
  std::string desired_content_version;  // the desired document without its first line (config::content_version)
  std::string desired_document;
  bool desired_sent = false;
  std::optional<Clock::time_point> desired_sent_at;  // when the desired version was first sent
  std::string applied_version;  // "" = unknown
  std::string nacked_version;   // the version the node last refused, "" = none since
  std::string nack_reason;
  std::optional<Clock::time_point> last_ack;
  std::optional<Clock::time_point> connected_since;
  std::optional<Clock::time_point> last_seen;  // the end (or start) of its latest poll
  int polls_waiting = 0;
  std::string build;  // the tollway version the node reported, "" = unknown
  // A node that runs its own file (`tollway gateway --report-to`) until it polls for a snapshot again.
  bool unmanaged = false;
  std::string reported_version;         // the content version of the file it runs
  std::string reported_config_version;  // its resolved version, as its /config shows it
  std::optional<Clock::time_point> last_report;
  bool drifted = false;  // as of the last update_drift
  std::optional<CertificatePeriod> certificate;  // none: the node has no identity, or a build that does not say
  std::optional<ProcessSample> process, previous_process;  // none: a build that does not say
  std::string auth;  // how its latest accepted request authenticated: "certificate" or "token"; "" = none yet
  struct Issued {
    std::string nonce;
    std::string version;
    bool answered = false;  // an ACK or NACK used it
  };
  std::deque<Issued> issued;  // the latest few
};

class Fleet {
 public:
  Fleet(std::chrono::milliseconds poll_timeout, std::chrono::milliseconds drift_after)
      : poll_timeout_(poll_timeout), drift_after_(drift_after) {}

  // Makes `policy` the desired state: nodes no longer declared are forgotten, new ones start NOT_SENT.
  void publish(const CheckedPolicy& policy);
  const NodeRecord* find(std::string_view node) const;
  // The node exists and `token`'s sha256 equals its declared one (compared in constant time).
  bool authenticate(std::string_view node, std::string_view token) const;

  // A poll begins: `have` is the version the node runs ("" = none), `build` its tollway version ("" = not said).
  // A node that polls is managed again.
  void poll_started(std::string_view node, std::string_view have, std::string_view build, Clock::time_point now);
  void poll_ended(std::string_view node, Clock::time_point now);
  // Whether a poll with `have` is answered with the desired snapshot now: it differs, and the node did not
  // refuse that version already (unless it runs nothing, having restarted).
  bool should_send(std::string_view node, std::string_view have) const;
  // Records that the desired snapshot goes out; returns its nonce.
  std::string issue(std::string_view node, Clock::time_point now);
  // An ACK (error empty) or NACK. Returns the reason for a 400, or "" when recorded.
  std::string acknowledge(std::string_view node, std::string_view version, std::string_view nonce,
                          const std::optional<std::string>& error, Clock::time_point now);

  // A node that runs its own file reports the content version of that file and its resolved version: it is
  // UNMANAGED from now on (until it polls).
  void report(std::string_view node, std::string_view version, std::string_view config_version,
              std::string_view build, Clock::time_point now);

  // A request of the node was accepted, authenticated by `method` ("certificate" or "token").
  void authenticated(std::string_view node, std::string_view method);
  // The validity of the certificate the node holds now (it said so with a poll or a report).
  void certificate(std::string_view node, CertificatePeriod period);
  // The node's CPU time and resident memory, said with a poll. A sample whose CPU time went down (the process
  // restarted) replaces both samples.
  void process_usage(std::string_view node, ProcessSample sample);
  // CPU seconds per second between the node's last two samples at least a second apart; nullopt before that.
  static std::optional<double> cpu_cores(const NodeRecord& record);

  NodeState state(const NodeRecord& record, Clock::time_point now) const;
  // An unmanaged node's file has the content of the document the policy gives it.
  static bool matches_policy(const NodeRecord& record);
  // STALE or ERROR for longer than drift_after: since its desired version was first sent.
  bool drifted(const NodeRecord& record, Clock::time_point now) const;
  struct DriftChange {
    std::string node;
    bool drifted = false;  // true: crossed drift_after; false: no longer drifted
    NodeState state = NodeState::Synced;
    std::chrono::seconds out_of_sync_for{0};  // since the desired version was first sent (drifted only)
  };
  // The nodes whose drifted() changed since the last call (each crossing once).
  std::vector<DriftChange> update_drift(Clock::time_point now);
  std::chrono::milliseconds drift_after() const { return drift_after_; }
  // The fleet's gauges in Prometheus text: nodes per state, drifted nodes (total and per node), unmanaged nodes
  // by match.
  void render_metrics(std::string& out, Clock::time_point now) const;
  // {"nodes":[{id, state, ...}]} fields (without braces) for /v1/fleet.
  std::string nodes_json(Clock::time_point now) const;
  const std::map<std::string, NodeRecord, std::less<>>& nodes() const { return nodes_; }

 private:
  NodeRecord* find_mutable(std::string_view node);

  std::chrono::milliseconds poll_timeout_;
  std::chrono::milliseconds drift_after_;
  std::map<std::string, NodeRecord, std::less<>> nodes_;
};

}  // namespace tollway::control
