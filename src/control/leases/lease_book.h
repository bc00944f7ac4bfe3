// LeaseBook: the control plane's side of leased budgets. Nodes spend a global budget from leases (a cumulative
// allowance per budget key, valid for a lifetime) and report their use; the book aggregates the reports and answers
// each with the node's next lease. Allocation follows demand with a fair-share floor, and never leases more than
// the budget has left: for every key, the sum over holders of max(used, granted) (unexpired leases) plus the use of
// closed or expired holders stays within the limit. It is plain data: no I/O, no clock (callers pass now_ms), no
// lock (the caller serialises); it never trusts a report it could not validate and never forgets reported use.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::control::leases {

struct LeaseSettings {
  int64_t sync_interval_ms = 1'000;  // how often a node reports; the demand horizon is two of them
  int64_t lease_ttl_ms = 10'000;     // a lease's lifetime from the moment it is granted
  // An idle holder is offered at least (limit - spent) / (floor_divisor * holders): a node can start serving at
  // once while idle nodes strand at most 1/floor_divisor of what remains.
  int64_t floor_divisor = 4;
};

// What a node says about one budget key (a calendar budget counter: rule, dimension values and period).
struct KeyReport {
  std::string key;
  int64_t limit = 0;      // the budget's global limit, as the node's policy says (> 0)
  int64_t used = 0;       // this incarnation's cumulative use of the key (settled + reserved, >= 0)
  double rate = 0;        // units per second the node spent over its last interval (demand, >= 0)
  int64_t held = 0;       // the cumulative grant of the lease it still holds (0: none, or expired)
  int64_t ends_in_ms = 0; // ms until the key's period ends (then the key is forgotten), > 0
};

// The answer for one key.
struct Lease {
  std::string key;
  int64_t granted = 0;  // cumulative: this incarnation may have used up to this much of the key
  int64_t ttl_ms = 0;   // the lease is valid this long from when the node sent its report
  int64_t spent = 0;    // what every holder reported, all nodes
  int64_t remaining = 0;  // limit - spent - what other holders' unexpired leases still allow (>= 0)
};

// Why a report was refused (nothing in it was applied).
struct ReportError {
  std::string key;  // "" for the report as a whole
  std::string message;
};

// One holder's state for one key: a node incarnation (a restarted node is a new holder; its earlier incarnations'
// use stays spent and their leases are released).
struct Holding {
  int64_t used = 0;
  int64_t granted = 0;
  int64_t expires_ms = 0;
  bool closed = false;  // superseded by a newer incarnation of the node: its use counts, its lease does not
  // A grant lowered below the lease the node held: the node may spend up to that one until the new lease reaches
  // it (it spends while its report is in flight), so the lowered part stays committed until the node's next report
  // says what it holds, or the old lease would have expired. Not persisted: a restarted control plane learns for one
  // lease lifetime, past that expiry.
  int64_t lowered_from = 0;
  int64_t lowered_until_ms = 0;
};

struct BudgetKeyState {
  int64_t limit = 0;
  int64_t ends_ms = 0;  // the period's end: one lease lifetime later the key is dropped
  std::map<std::string, Holding, std::less<>> holders;  // by holder id "NODE/INCARNATION"
};

class LeaseBook {
 public:
  explicit LeaseBook(LeaseSettings settings) : settings_(settings) {}

  // Applies `reports` from one node incarnation and returns its next leases (same order), or the errors of a
  // report that was refused whole: a limit or use out of range (negative, or a use more than the whole limit
  // beyond what the holder was granted), a negative or non-finite rate, a key twice. The key's limit is the
  // latest report's (the caller checks it against the node's policy). A holder seen for the first time whose
  // node held another incarnation of the key closes that one.
  struct Answer {
    std::vector<Lease> leases;
    std::vector<ReportError> errors;
  };
  Answer report(std::string_view node, std::string_view incarnation, std::span<const KeyReport> reports,
                int64_t now_ms);

  // From this moment until one lease lifetime has passed, no holder is granted more than it already holds (the
  // book was rebuilt after a restart and learns what nodes hold from their reports' `held`).
  void start_learning(int64_t now_ms) { learning_until_ms_ = now_ms + settings_.lease_ttl_ms; }

  // Forgets keys whose period ended more than one lease lifetime ago; returns how many.
  std::size_t drop_ended(int64_t now_ms);

  const std::map<std::string, BudgetKeyState, std::less<>>& keys() const { return keys_; }
  // Restores one key's state (from persistence), replacing any held.
  void restore(std::string key, BudgetKeyState state) { keys_[std::move(key)] = std::move(state); }
  void forget(std::string_view key) {
    if (const auto found = keys_.find(key); found != keys_.end()) keys_.erase(found);
  }

  // Totals for one key at now_ms: spent by every holder, still leased out (unexpired, unused part), left.
  struct Totals {
    int64_t limit = 0, spent = 0, leased = 0, remaining = 0;
  };
  static Totals totals(const BudgetKeyState& state, int64_t now_ms);

  const LeaseSettings& settings() const { return settings_; }

 private:
  Lease grant(const std::string& key, BudgetKeyState& state, const std::string& holder, const KeyReport& report,
              int64_t now_ms);

  LeaseSettings settings_;
  std::map<std::string, BudgetKeyState, std::less<>> keys_;
  int64_t learning_until_ms_ = 0;
};

}  // namespace tollway::control::leases
