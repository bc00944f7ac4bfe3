// RolloutSpec: how a policy version is rolled out in stages — which nodes take it first (a label selector, or a
// percentage of the declared nodes chosen by the hash of their IDs, so a restart picks the same ones), how long
// the canary holds, how many requests it must answer before it is judged, and how far its error (5xx) and denial
// (401/403/429) rates may rise above the other nodes' before it is rolled back. Read from the policy's
// rollout.yaml (errors as "FILE:LINE: key.path: problem") and/or `tollway control publish --canary`. Pure: it
// never publishes and never decides a rollout's outcome (Rollout does).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/policy_directory.h"

namespace tollway::control::rollout {

// The policy file that asks for a staged rollout; not a section of any node's document.
inline constexpr std::string_view kRolloutFile = "rollout.yaml";

// Which nodes are the canary: every node whose labels include `selector`, or (selector empty) `percent` of them.
struct CanarySelection {
  std::map<std::string, std::string> selector;
  int percent = 10;
  bool operator==(const CanarySelection&) const = default;
  // "zone=a" or "10%", as --canary takes it.
  std::string text() const;
};

// The defaults follow Flagger's and Argo Rollouts' habits: a small canary (10%), a hold of minutes, a request
// floor before any verdict, and a 1% error-rate (Flagger's 99% success rate) and 5% denial-rate allowance.
struct RolloutSpec {
  CanarySelection canary;
  std::chrono::milliseconds hold{std::chrono::minutes(5)};
  uint64_t min_requests = 100;
  double max_error_rate_increase = 0.01;  // a fraction: canary 5xx rate minus the baseline's
  double max_deny_rate_increase = 0.05;   // the same for 401/403/429
  bool operator==(const RolloutSpec&) const = default;
  // {"canary","hold_ms","min_requests","max_error_rate_increase","max_deny_rate_increase"}
  std::string to_json() const;
};

// rollout.yaml's content named `file` in errors; nullopt with the errors appended.
std::optional<RolloutSpec> parse_rollout_file(const std::string& file, const std::string& text,
                                              std::vector<std::string>& errors);
// --canary's value: "LABEL=VALUE[,LABEL=VALUE…]" or "N%" (1 to 99); nullopt with `error`.
std::optional<CanarySelection> parse_canary_option(std::string_view text, std::string& error);

// The rollout a version asks for: `from_file` (rollout.yaml's, if any) with its canary replaced by `canary_option`
// (`publish --canary`, "" = none; without a file it takes the other defaults); nullopt = published whole. nullopt
// with `error` when the option is not a canary or selects no node or every node of `nodes`.
std::optional<RolloutSpec> spec_for(const std::optional<RolloutSpec>& from_file, std::string_view canary_option,
                                    const std::vector<DeclaredNode>& nodes, std::string& error);

// The IDs of the canary nodes among `nodes` (sorted), or nullopt with `error`: a selector that matches no node,
// or every node (there would be nothing to compare it with), or fewer than two nodes. A percentage takes
// ceil(N × percent / 100) nodes, at least one and at most N − 1, those whose sha256(ID) is lowest.
std::optional<std::vector<std::string>> select_canary(const CanarySelection& selection,
                                                      const std::vector<DeclaredNode>& nodes, std::string& error);

}  // namespace tollway::control::rollout
