#include "control/etcd/etcd_json.h"

#include <array>
#include <charconv>

#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::control::etcd {
namespace {

namespace sj = core::strict_json;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  const auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::optional<sj::Value> parse_json_object(std::string_view body, std::string& error) {
  sj::ParseLimits limits;
  limits.max_bytes = 64u << 20;
  limits.max_depth = 8;
  auto value = sj::parse(body, error, limits);
  if (!value) {
    error = "not JSON: " + error;
    return std::nullopt;
  }
  if (!value->is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  return value;
}

bool read_int_field(const sj::Value& object, std::string_view name, int64_t& out, std::string& error) {
  out = 0;
  const sj::Value* v = object.find(name);
  if (!v) return true;
  if (v->is_string()) {
    const std::string& s = v->as_string();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return true;
  }
  error = std::string(name) + " is not a decimal integer string";
  return false;
}

bool read_bytes_field(const sj::Value& object, std::string_view name, std::string& out, std::string& error) {
  out.clear();
  const sj::Value* v = object.find(name);
  if (!v) return true;
  std::optional<std::string> bytes;
  if (v->is_string()) bytes = base64_decode(v->as_string());
  if (!bytes) {
    error = std::string(name) + " is not base64";
    return false;
  }
  out = std::move(*bytes);
  return true;
}

namespace {

bool read_header_revision(const sj::Value& body, int64_t& revision, std::string& error) {
  const sj::Value* header = body.find("header");
  if (!header || !header->is_object()) {
    error = "no header in the answer";
    return false;
  }
  if (!read_int_field(*header, "revision", revision, error)) return false;
  if (revision <= 0) {
    error = "header.revision is missing";
    return false;
  }
  return true;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" is not padding
    std::array<int, 4> s{};
    for (int k = 0; k < 4 - pad; ++k) {
      s[k] = sextet(text[i + k]);
      if (s[k] < 0) return std::nullopt;
    }
    const uint32_t n = (uint32_t(s[0]) << 18) | (uint32_t(s[1]) << 12) | (uint32_t(s[2]) << 6) | uint32_t(s[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's "\0" range_end)
}

std::string range_request(std::string_view key, std::string_view range_end, bool keys_only) {
  json::ObjectWriter w;
  w.field("key", base64_encode(key)).field("range_end", base64_encode(range_end));
  if (keys_only) w.field("keys_only", true);
  return std::move(w).finish();
}

namespace {

bool read_kvs(const sj::Value& object, std::vector<KeyValue>& out, std::string& error) {
  const sj::Value* kvs = object.find("kvs");
  if (!kvs) return true;
  if (!kvs->is_array()) {
    error = "kvs is not an array";
    return false;
  }
  for (const auto& item : kvs->items()) {
    if (!item.is_object()) {
      error = "an item of kvs is not an object";
      return false;
    }
    KeyValue kv;
    if (!read_bytes_field(item, "key", kv.key, error) || !read_bytes_field(item, "value", kv.value, error) ||
        !read_int_field(item, "create_revision", kv.create_revision, error) ||
        !read_int_field(item, "mod_revision", kv.mod_revision, error) ||
        !read_int_field(item, "version", kv.version, error) || !read_int_field(item, "lease", kv.lease, error))
      return false;
    if (kv.key.empty()) {
      error = "an item of kvs has no key";
      return false;
    }
    out.push_back(std::move(kv));
  }
  return true;
}

std::string compare_json(std::string_view key, std::string_view target, std::string_view field, int64_t number) {
  json::ObjectWriter w;
  w.field("key", base64_encode(key)).field("target", target).field("result", "EQUAL").field(field, std::to_string(number));
  return std::move(w).finish();
}

}  // namespace

std::optional<RangeResult> parse_range_response(std::string_view body, std::string& error) {
  auto root = parse_json_object(body, error);
  if (!root) return std::nullopt;
  RangeResult result;
  if (!read_header_revision(*root, result.revision, error)) return std::nullopt;
  if (!read_kvs(*root, result.kvs, error)) return std::nullopt;
  return result;
}

std::string claim_txn_request(std::string_view key, std::string_view value, int64_t lease) {
  json::ObjectWriter put;
  put.field("key", base64_encode(key)).field("value", base64_encode(value)).field("lease", std::to_string(lease));
  json::ObjectWriter range;
  range.field("key", base64_encode(key));
  json::ObjectWriter w;
  w.raw_field("compare", "[" + compare_json(key, "CREATE", "create_revision", 0) + "]")
      .raw_field("success", "[{\"request_put\":" + std::move(put).finish() + "}]")
      .raw_field("failure", "[{\"request_range\":" + std::move(range).finish() + "}]");
  return std::move(w).finish();
}

std::string fenced_create_txn_request(std::string_view fence_key, int64_t fence_create_revision, std::string_view key,
                                      std::string_view value) {
  json::ObjectWriter put;
  put.field("key", base64_encode(key)).field("value", base64_encode(value));
  json::ObjectWriter w;
  w.raw_field("compare", "[" + compare_json(fence_key, "CREATE", "create_revision", fence_create_revision) + "," +
                             compare_json(key, "CREATE", "create_revision", 0) + "]")
      .raw_field("success", "[{\"request_put\":" + std::move(put).finish() + "}]");
  return std::move(w).finish();
}

std::string lease_grant_request(int64_t ttl_seconds) {
  json::ObjectWriter w;
  w.field("TTL", std::to_string(ttl_seconds));
  return std::move(w).finish();
}

std::string lease_keepalive_request(int64_t id) {
  json::ObjectWriter w;
  w.field("ID", std::to_string(id));
  return std::move(w).finish();
}

std::optional<LeaseAnswer> parse_lease_response(std::string_view body, std::string& error) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
  auto root = parse_json_object(body, error);
  if (!root) return std::nullopt;
  const sj::Value* answer = &*root;
  if (const sj::Value* result = root->find("result")) {
    if (!result->is_object()) {
      error = "result is not an object";
      return std::nullopt;
    }
    answer = result;
  } else if (const sj::Value* failure = root->find("error")) {
    const sj::Value* message = failure->find("message");
    error = message && message->is_string() ? message->as_string() : "an error answer";
    return std::nullopt;
  }
  LeaseAnswer lease;
  int64_t revision = 0;
  if (!read_header_revision(*answer, revision, error) || !read_int_field(*answer, "ID", lease.id, error) ||
      !read_int_field(*answer, "TTL", lease.ttl, error))
    return std::nullopt;
  if (lease.id == 0) {
    error = "the answer names no lease ID";
    return std::nullopt;
  }
  return lease;
}

std::string guarded_txn_request(std::string_view key, std::string_view range_end, int64_t revision,
                                const std::vector<TxnWrite>& writes) {
  json::ObjectWriter compare;
  compare.field("key", base64_encode(key))
      .field("range_end", base64_encode(range_end))
      .field("target", "MOD")
      .field("result", "LESS")
      .field("mod_revision", std::to_string(revision + 1));
  std::string success = "[";
  for (const auto& write : writes) {
    if (success.size() > 1) success += ",";
    json::ObjectWriter op;
    op.field("key", base64_encode(write.key));
    if (write.kind == TxnWrite::Kind::Put) {
      op.field("value", base64_encode(write.value));
      success += "{\"request_put\":" + std::move(op).finish() + "}";
    } else {
      success += "{\"request_delete_range\":" + std::move(op).finish() + "}";
    }
  }
  success += "]";
  json::ObjectWriter w;
  w.raw_field("compare", "[" + std::move(compare).finish() + "]").raw_field("success", success);
  return std::move(w).finish();
}

std::optional<TxnResult> parse_txn_response(std::string_view body, std::string& error) {
  auto root = parse_json_object(body, error);
  if (!root) return std::nullopt;
  TxnResult result;
  if (!read_header_revision(*root, result.revision, error)) return std::nullopt;
  if (const sj::Value* s = root->find("succeeded")) {
    if (!s->is_bool()) {
      error = "succeeded is not a boolean";
      return std::nullopt;
    }
    result.succeeded = s->as_bool();
  }
  if (const sj::Value* responses = root->find("responses")) {
    if (!responses->is_array()) {
      error = "responses is not an array";
      return std::nullopt;
    }
    for (const auto& response : responses->items()) {
      const sj::Value* range = response.find("response_range");
      if (range && !read_kvs(*range, result.kvs, error)) return std::nullopt;
    }
  }
  return result;
}

std::string error_message(std::string_view body) {
  std::string error;
  auto root = parse_json_object(body, error);
  if (!root) return "";
  if (auto m = root->string_member("message")) return std::string(*m);
  if (auto e = root->string_member("error")) return std::string(*e);
  return "";
}

}  // namespace tollway::control::etcd
