// EtcdJson: the JSON that etcd 3.4's v3 gateway (grpc-gateway over HTTP, POST /v3/kv/range, /v3/kv/txn,
// /v3/lease/grant and /v3/lease/keepalive) speaks, for the calls tollway makes: a range over a key prefix, a
// transaction of puts and deletes guarded by one compare, the writer claim (create a key only if absent, with a
// lease), a put fenced by the writer key, and a lease's grant and keep-alive. Keys and values are standard padded base64, 64-bit integers decimal strings, and a
// field that is zero or empty is left out (a failed txn has no "succeeded", an empty range no "kvs"), exactly
// as the gateway writes them. Pure: it never does I/O, and reading is strict (a malformed answer is an error,
// never a guess).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strict_json.h"

namespace tollway::control::etcd {

// Field readers shared with the watch stream's parser: an int64 written as a decimal string (0 when absent), and
// base64 bytes ("" when absent). False with `error` naming the field otherwise.
bool read_int_field(const core::strict_json::Value& object, std::string_view name, int64_t& out, std::string& error);
bool read_bytes_field(const core::strict_json::Value& object, std::string_view name, std::string& out,
                      std::string& error);
// A JSON object of at most 64 MiB, nullopt with `error` otherwise.
std::optional<core::strict_json::Value> parse_json_object(std::string_view body, std::string& error);

std::string base64_encode(std::string_view bytes);
// Standard alphabet with padding; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

// The range_end that, with `prefix` as the key, covers every key starting with `prefix` (the prefix with its
// last byte incremented, as etcdctl --prefix computes it).
std::string prefix_range_end(std::string_view prefix);

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  int64_t revision = 0;  // the store's revision the range was read at (header.revision)
  std::vector<KeyValue> kvs;
};

std::string range_request(std::string_view key, std::string_view range_end, bool keys_only);
std::optional<RangeResult> parse_range_response(std::string_view body, std::string& error);

struct TxnWrite {
  enum class Kind { Put, Delete };
  Kind kind = Kind::Put;
  std::string key;
  std::string value;  // for Put
};

// A txn that applies `writes` only when no key in [key, range_end) was modified after `revision` (compare:
// target MOD, result LESS, mod_revision revision + 1, over the range).
std::string guarded_txn_request(std::string_view key, std::string_view range_end, int64_t revision,
                                const std::vector<TxnWrite>& writes);

// A txn that puts `key` = `value` attached to `lease` only when `key` does not exist (compare CREATE EQUAL 0),
// and otherwise reads it (the holder comes back in TxnResult::kvs).
std::string claim_txn_request(std::string_view key, std::string_view value, int64_t lease);
// A txn that puts `key` = `value` only while `fence_key` still has create_revision `fence_create_revision` (the
// writer still holds its key) and `key` does not exist yet.
std::string fenced_create_txn_request(std::string_view fence_key, int64_t fence_create_revision, std::string_view key,
                                      std::string_view value);

struct TxnResult {
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<KeyValue> kvs;  // what a request_range among the txn's operations read
};

std::string lease_grant_request(int64_t ttl_seconds);
std::string lease_keepalive_request(int64_t id);
struct LeaseAnswer {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds; 0 from a keep-alive: the lease is gone (expired or revoked)
};
// Both /v3/lease/grant's answer and /v3/lease/keepalive's (a one-message stream: {"result":{...}}).
std::optional<LeaseAnswer> parse_lease_response(std::string_view body, std::string& error);
std::optional<TxnResult> parse_txn_response(std::string_view body, std::string& error);

// The message of an error answer ({"error","message","code"}), or "" when the body is not one.
std::string error_message(std::string_view body);

}  // namespace tollway::control::etcd
