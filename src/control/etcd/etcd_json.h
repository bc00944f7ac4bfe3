// EtcdJson: the JSON that etcd 3.4's v3 gateway (grpc-gateway over HTTP, POST /v3/kv/range and /v3/kv/txn)
// speaks, for the calls tollway makes: a range over a key prefix, and a transaction of puts and deletes
// guarded by one compare. Keys and values are standard padded base64, 64-bit integers decimal strings, and a
// field that is zero or empty is left out (a failed txn has no "succeeded", an empty range no "kvs"), exactly
// as the gateway writes them. Pure: it never does I/O, and reading is strict (a malformed answer is an error,
// never a guess).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::control::etcd {

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

struct TxnResult {
  int64_t revision = 0;
  bool succeeded = false;
};
std::optional<TxnResult> parse_txn_response(std::string_view body, std::string& error);

// The message of an error answer ({"error","message","code"}), or "" when the body is not one.
std::string error_message(std::string_view body);

}  // namespace tollway::control::etcd
