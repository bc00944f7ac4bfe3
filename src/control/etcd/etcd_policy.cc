#include "control/etcd/etcd_policy.h"

namespace tollway::control::etcd {
namespace {

constexpr std::string_view kMetaName = ".publish";

}  // namespace

std::optional<std::string> normalize_prefix(std::string_view prefix, std::string& error) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty() || prefix == "/" || prefix.front() != '/') {
    error = "--prefix: \"" + std::string(prefix) + "\" must be an absolute key path such as /tollway/policy";
    return std::nullopt;
  }
  return std::string(prefix);
}

std::string prefix_key(const std::string& prefix) { return prefix + "/"; }

EtcdPolicyRead policy_from_range(const std::string& prefix, const RangeResult& range) {
  EtcdPolicyRead read;
  read.files.root = prefix;
  const std::string start = prefix_key(prefix);
  for (const auto& kv : range.kvs) {
    if (!kv.key.starts_with(start)) continue;
    const std::string path = kv.key.substr(start.size());
    if (path == kMetaName) {
      std::string error;
      read.meta = PublishMeta::from_json(kv.value, error);
      if (!read.meta) read.errors.push_back(kv.key + ": not tollway's publish record: " + error);
      continue;
    }
    if (!is_policy_file(path)) {
      read.errors.push_back(kv.key + ": not a policy file (keys under " + start +
                            " are NAME.yaml, groups/NAME.yaml and .publish)");
      continue;
    }
    read.files.files.emplace(path, kv.value);
  }
  return read;
}

std::string range_fingerprint(const RangeResult& range) {
  std::string fingerprint;
  for (const auto& kv : range.kvs) fingerprint += kv.key + '\0' + std::to_string(kv.mod_revision) + '\n';
  return fingerprint;
}

boost::asio::awaitable<PublishOutcome> publish_policy(EtcdClient& client, const std::string& prefix,
                                                      const PolicyFiles& files, PublishMeta meta,
                                                      int64_t expected_revision) {
  PublishOutcome outcome;
  const std::string start = prefix_key(prefix);
  const std::string end = prefix_range_end(start);
  RangeAnswer before = co_await client.range(start, end, false);
  if (!before.result) {
    outcome.message = "cannot read " + start + " from etcd: " + before.error;
    co_return outcome;
  }
  const EtcdPolicyRead current = policy_from_range(prefix, *before.result);
  const std::string hash = files.content_hash();
  if (current.errors.empty() && current.files.files == files.files && current.meta &&
      current.meta->content_hash == hash) {
    outcome.result = PublishOutcome::Result::Unchanged;
    outcome.revision = before.result->revision;
    outcome.message = "unchanged: etcd already holds this policy under " + start + " (policy " + hash.substr(0, 12) + ")";
    co_return outcome;
  }
  meta.content_hash = hash;
  std::vector<TxnWrite> writes;
  for (const auto& kv : before.result->kvs) {
    const std::string path = kv.key.substr(start.size());
    if (path != kMetaName && !files.files.count(path)) writes.push_back({TxnWrite::Kind::Delete, kv.key, ""});
  }
  for (const auto& [path, bytes] : files.files) writes.push_back({TxnWrite::Kind::Put, start + path, bytes});
  writes.push_back({TxnWrite::Kind::Put, start + std::string(kMetaName), meta.to_json()});
  const int64_t guard = expected_revision > 0 ? expected_revision : before.result->revision;
  TxnAnswer answer = co_await client.txn(guarded_txn_request(start, end, guard, writes));
  if (!answer.result) {
    outcome.message = answer.outcome_unknown
                          ? "etcd did not answer the write, so it may or may not have been applied (" + answer.error +
                                "): look at `tollway control status` or publish again"
                          : "the write failed: " + answer.error;
    co_return outcome;
  }
  if (!answer.result->succeeded) {
    outcome.result = PublishOutcome::Result::Conflict;
    outcome.message = "conflict: the policy under " + start + " changed after etcd revision " + std::to_string(guard) +
                      (expected_revision > 0 ? " (--expect-revision)" : ", which this publish read") +
                      ": another publish won. Nothing was written: check the new policy and publish again";
    co_return outcome;
  }
  outcome.result = PublishOutcome::Result::Published;
  outcome.revision = answer.result->revision;
  outcome.message = "published policy " + hash.substr(0, 12) + " to " + start + " (" +
                    std::to_string(files.files.size()) + " files, etcd revision " + std::to_string(outcome.revision) + ")";
  co_return outcome;
}

}  // namespace tollway::control::etcd
