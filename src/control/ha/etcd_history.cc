#include "control/ha/etcd_history.h"

#include <charconv>
#include <cstdio>

#include "control/etcd/etcd_json.h"
#include "core/json.h"

namespace tollway::control::ha {
namespace {

namespace sj = core::strict_json;

bool string_member(const sj::Value& root, std::string_view name, std::string& out, std::string& error) {
  const sj::Value* v = root.find(name);
  if (!v || !v->is_string()) {
    error = std::string(name) + " is missing or not a string";
    return false;
  }
  out = v->as_string();
  return true;
}

}  // namespace

std::string control_prefix(const std::string& policy_prefix) { return policy_prefix + ".control"; }
std::string writer_key(const std::string& policy_prefix) { return control_prefix(policy_prefix) + "/writer"; }
std::string history_start(const std::string& policy_prefix) { return control_prefix(policy_prefix) + "/history/"; }

std::string history_key(const std::string& policy_prefix, int64_t counter) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(counter));
  return history_start(policy_prefix) + digits;
}

std::optional<int64_t> history_counter(const std::string& policy_prefix, std::string_view key) {
  const std::string start = history_start(policy_prefix);
  if (!key.starts_with(start) || key.size() != start.size() + 20) return std::nullopt;
  int64_t counter = 0;
  const auto digits = key.substr(start.size());
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), counter);
  if (ec != std::errc() || end != digits.data() + digits.size() || counter <= 0) return std::nullopt;
  return counter;
}

std::string version_json(const VersionRecord& record, const std::map<std::string, std::string>& files) {
  json::ObjectWriter encoded;
  for (const auto& [path, bytes] : files) encoded.field(path, etcd::base64_encode(bytes));
  json::ObjectWriter w;
  w.field("counter", record.counter)
      .field("revision", record.revision)
      .field("content_hash", record.content_hash)
      .field("parent", record.parent)
      .field("published_at", record.published_at)
      .field("store", record.store)
      .raw_field("meta", record.meta.to_json())
      .raw_field("files", std::move(encoded).finish());
  return std::move(w).finish();
}

std::optional<SharedVersion> parse_version_json(std::string_view text, std::string& error) {
  auto root = etcd::parse_json_object(text, error);
  if (!root) return std::nullopt;
  SharedVersion out;
  VersionRecord& r = out.record;
  const sj::Value* counter = root->find("counter");
  if (!counter || !counter->is_integer() || counter->as_int() <= 0) {
    error = "counter is missing or not a positive integer";
    return std::nullopt;
  }
  r.counter = counter->as_int();
  if (!string_member(*root, "revision", r.revision, error) ||
      !string_member(*root, "content_hash", r.content_hash, error) ||
      !string_member(*root, "parent", r.parent, error) ||
      !string_member(*root, "published_at", r.published_at, error) || !string_member(*root, "store", r.store, error))
    return std::nullopt;
  if (!r.revision.starts_with(std::to_string(r.counter) + "-")) {
    error = "revision does not start with its counter";
    return std::nullopt;
  }
  const sj::Value* meta = root->find("meta");
  const sj::Value* files = root->find("files");
  if (!meta || !meta->is_object() || !files || !files->is_object()) {
    error = "meta or files is missing";
    return std::nullopt;
  }
  // The meta object is read again from its own text: PublishMeta owns its JSON.
  json::ObjectWriter meta_text;
  for (const auto& [name, value] : meta->members()) {
    if (!value.is_string()) {
      error = "meta." + name + " is not a string";
      return std::nullopt;
    }
    meta_text.field(name, value.as_string());
  }
  auto parsed_meta = PublishMeta::from_json(std::move(meta_text).finish(), error);
  if (!parsed_meta) return std::nullopt;
  r.meta = std::move(*parsed_meta);
  for (const auto& [path, value] : files->members()) {
    auto bytes = value.is_string() ? etcd::base64_decode(value.as_string()) : std::nullopt;
    if (!bytes) {
      error = "files." + path + " is not base64";
      return std::nullopt;
    }
    out.files.emplace(path, std::move(*bytes));
  }
  return out;
}

}  // namespace tollway::control::ha
