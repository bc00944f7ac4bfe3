// Fleet: what the control plane knows of each declared node — the version it should run (desired, from the
// published policy), the version it runs (applied: its ACKs and the `have` of its polls), its NACK and reason,
// the nonces issued with the snapshots it was sent, when it last polled and ACKed — and the state that follows:
// SYNCED, STALE, ERROR, NOT_SENT or DISCONNECTED. Pure bookkeeping on the control thread, times passed in: it
// never does I/O and never decides what is published.
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

enum class NodeState { Synced, Stale, Error, NotSent, Disconnected };
std::string_view state_name(NodeState state);

struct NodeRecord {
  DeclaredNode declared;
  std::string desired_version;
  std::string desired_document;
  bool desired_sent = false;
  std::string applied_version;  // "" = unknown
  std::string nacked_version;   // the version the node last refused, "" = none since
  std::string nack_reason;
  std::optional<Clock::time_point> last_ack;
  std::optional<Clock::time_point> connected_since;
  std::optional<Clock::time_point> last_seen;  // the end (or start) of its latest poll
  int polls_waiting = 0;
  struct Issued {
    std::string nonce;
    std::string version;
    bool answered = false;  // an ACK or NACK used it
  };
  std::deque<Issued> issued;  // the latest few
};

class Fleet {
 public:
  explicit Fleet(std::chrono::milliseconds poll_timeout) : poll_timeout_(poll_timeout) {}

  // Makes `policy` the desired state: nodes no longer declared are forgotten, new ones start NOT_SENT.
  void publish(const CheckedPolicy& policy);
  const NodeRecord* find(std::string_view node) const;
  // The node exists and `token`'s sha256 equals its declared one (compared in constant time).
  bool authenticate(std::string_view node, std::string_view token) const;

  // A poll begins: `have` is the version the node runs ("" = none).
  void poll_started(std::string_view node, std::string_view have, Clock::time_point now);
  void poll_ended(std::string_view node, Clock::time_point now);
  // Whether a poll with `have` is answered with the desired snapshot now: it differs, and the node did not
  // refuse that version already (unless it runs nothing, having restarted).
  bool should_send(std::string_view node, std::string_view have) const;
  // Records that the desired snapshot goes out; returns its nonce.
  std::string issue(std::string_view node);
  // An ACK (error empty) or NACK. Returns the reason for a 400, or "" when recorded.
  std::string acknowledge(std::string_view node, std::string_view version, std::string_view nonce,
                          const std::optional<std::string>& error, Clock::time_point now);

  NodeState state(const NodeRecord& record, Clock::time_point now) const;
  // {"nodes":[{id, state, ...}]} fields (without braces) for /v1/fleet.
  std::string nodes_json(Clock::time_point now) const;

 private:
  NodeRecord* find_mutable(std::string_view node);

  std::chrono::milliseconds poll_timeout_;
  std::map<std::string, NodeRecord, std::less<>> nodes_;
};

}  // namespace tollway::control
