// EtcdHistory: how the policy history is shared by the control planes of one etcd cluster — each version the
// writer records is one key HA/history/COUNTER (20 digits, so keys sort as counters; HA = the policy prefix
// followed by ".control") whose value is the version's record and all of its files (JSON, file bytes base64).
// Every plane imports these records into its own history.db, so all of them list the same versions under the same
// revisions. Pure: the keys and the JSON; it never does I/O and never writes a record itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "control/policy_history.h"

namespace tollway::control::ha {

// PREFIX.control: the keys of the plane's coordination beside PREFIX/ (outside it: a policy range never holds them).
std::string control_prefix(const std::string& policy_prefix);
std::string writer_key(const std::string& policy_prefix);       // PREFIX.control/writer
std::string history_start(const std::string& policy_prefix);    // PREFIX.control/history/
std::string history_key(const std::string& policy_prefix, int64_t counter);
// The counter a history key names; nullopt for any other key.
std::optional<int64_t> history_counter(const std::string& policy_prefix, std::string_view key);

struct SharedVersion {
  VersionRecord record;  // without changes (each plane computes them against the parent)
  std::map<std::string, std::string> files;
};

std::string version_json(const VersionRecord& record, const std::map<std::string, std::string>& files);
// nullopt with `error` for anything but a record version_json wrote.
std::optional<SharedVersion> parse_version_json(std::string_view text, std::string& error);

}  // namespace tollway::control::ha
