// EtcdPolicy: how a policy lives in etcd under a prefix P — each policy file at P/PATH (P/base.yaml,
// P/groups/zone-a.yaml, P/nodes.yaml, exactly a policy directory's files) and the last publish's metadata at
// P/.publish — read whole from one range (one etcd revision, so never half of a publish), and written whole by
// publish_policy: one txn that puts every file, deletes the keys of files that are gone and puts P/.publish,
// applied only if nothing under P/ changed since the revision the publisher read. It never writes a key
// outside P/ and never reads a key under P/ that is not a policy file as one (such a key is an error).
#pragma once

#include <boost/asio.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/etcd/etcd_client.h"
#include "control/policy_files.h"
#include "control/publish_meta.h"

namespace tollway::control::etcd {

// `prefix` without trailing slashes; nullopt with `error` when it is empty or not an absolute key path.
std::optional<std::string> normalize_prefix(std::string_view prefix, std::string& error);

// The first key and range end of everything under PREFIX/.
std::string prefix_key(const std::string& prefix);

struct EtcdPolicyRead {
  PolicyFiles files;                // root = prefix
  std::optional<PublishMeta> meta;  // P/.publish, when present and readable
  std::vector<std::string> errors;  // "KEY: problem" for keys under P/ that are not policy files, or bad metadata
};

EtcdPolicyRead policy_from_range(const std::string& prefix, const RangeResult& range);

// A change detector: every key under the prefix with its mod_revision (from a keys_only range).
std::string range_fingerprint(const RangeResult& range);

struct PublishOutcome {
  enum class Result { Published, Unchanged, Conflict, Failed };
  Result result = Result::Failed;
  std::string message;    // a sentence for the user
  int64_t revision = 0;   // etcd's revision after the txn (Published)
};

// Writes `files` (already checked) with `meta` as the whole policy under `prefix`, guarded by `expected_revision`
// (nothing under the prefix may have changed after it), or when 0 by the revision of its own fresh read.
// Unchanged when etcd already holds exactly these files.
boost::asio::awaitable<PublishOutcome> publish_policy(EtcdClient& client, const std::string& prefix,
                                                      const PolicyFiles& files, PublishMeta meta,
                                                      int64_t expected_revision = 0);

}  // namespace tollway::control::etcd
