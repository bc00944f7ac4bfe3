// VirtualKeyStore: the gateway's virtual keys ("tw-" + 256 random bits). Stores only SHA-256 hashes of the
// secrets, in SQLite (so a restart keeps them), and serves lookups from an immutable in-memory table that is
// swapped atomically after every change, so a revocation is seen by the next request on every worker.
// The request path (authenticate / is_active) never touches SQLite and never takes a mutex; the admin
// operations run on the control thread. It never stores, logs or returns a secret except once, at creation
// or rotation, to the admin caller. Opening migrates an older file's schema in place.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/caller_policy.h"
#include "core/shared_cell.h"

struct sqlite3;

namespace tollway::auth {

struct VirtualKey {
  std::string id;                 // "vk_" + 16 hex digits; safe to log
  std::string secret_sha256;      // 32 raw bytes
  std::string previous_sha256;    // after a rotation: the old secret's hash, valid until previous_valid_until
  int64_t previous_valid_until = 0;
  std::string display_prefix;     // "tw-" + the first 4 characters, to recognise a key in listings
  std::string name;
  std::string tenant;
  std::string agent_group;
  std::string agent;
  std::vector<std::string> routes;  // globs on the request path; empty = any
  std::vector<std::string> models;  // globs on the body's model; empty = any
  uint64_t max_tokens = 0;          // cap on the request's max_tokens; 0 = none
  int64_t expires_at = 0;           // unix seconds; 0 = never
  int64_t created_at = 0;
  int64_t revoked_at = 0;           // 0 = active
  // The key's own limits (key_limits.h), as validated JSON object text; enforced by the limits filter.
  std::string limits_json = "{}";
  // Start of the key's first budget period (unix seconds): its creation, or the moment a budget was set or its
  // duration changed.
  int64_t budget_anchor = 0;
  std::string metadata_json = "{}";  // free-form JSON object of the caller's, stored and returned as given
  // routes / models / max_tokens / limits as the request path reads them; set when the table is published.
  std::shared_ptr<const CallerPolicy> policy;
};

enum class KeyCheck { Ok, Unknown, Revoked, Expired, RotatedOut };
std::string_view key_check_code(KeyCheck c);  // "unknown_key", "key_revoked", ...

struct NewVirtualKey {
  std::string name, tenant, agent_group, agent;
  std::vector<std::string> routes, models;
  uint64_t max_tokens = 0;
  int64_t expires_at = 0;
  std::string limits_json = "{}";
  std::string metadata_json = "{}";
};

// What PATCH /admin/keys/{id} changes; unset fields stay as they are. The secret never changes.
struct VirtualKeyChange {
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> routes, models;
  std::optional<uint64_t> max_tokens;
  std::optional<int64_t> expires_at;  // 0 = never
  std::optional<std::string> limits_json, metadata_json;
};

// "tw-" + 43 base64url characters from the OS CSPRNG.
std::string generate_virtual_key_secret();
// SHA-256 of the secret, raw bytes.
std::string hash_secret(std::string_view secret);

class VirtualKeyStore {
 public:
  // Opens or creates the SQLite database (":memory:" for a throwaway store) and loads every key.
  static std::unique_ptr<VirtualKeyStore> open(const std::string& path, std::string& error);
  ~VirtualKeyStore();

  // Request path. The presented secret is hashed and looked up; the hash is compared in constant time.
  std::shared_ptr<const VirtualKey> authenticate(std::string_view secret, int64_t now, KeyCheck& why) const;
  // The key with this id while it is usable (not revoked, not expired), else null with `why` (Unknown,
  // Revoked or Expired); for tokens minted from it.
  std::shared_ptr<const VirtualKey> active_key(const std::string& id, int64_t now, KeyCheck& why) const;

  // Admin operations (serialised; they write SQLite, then publish a new table). Errors are sentences.
  std::optional<std::pair<VirtualKey, std::string>> create(const NewVirtualKey& request, int64_t now,
                                                           std::string& error);
  std::vector<VirtualKey> list() const;
  std::optional<VirtualKey> get(const std::string& id) const;
  // Applies a change and publishes it (the next request sees it). Setting a budget on a key that had none, or
  // changing its budget_duration, starts a new budget period now.
  std::optional<VirtualKey> update(const std::string& id, const VirtualKeyChange& change, int64_t now,
                                   std::string& error);
  std::optional<VirtualKey> revoke(const std::string& id, int64_t now, std::string& error);
  // Issues a new secret for the key; the old one keeps working until now + grace_seconds.
  std::optional<std::pair<VirtualKey, std::string>> rotate(const std::string& id, int64_t grace_seconds, int64_t now,
                                                           std::string& error);
  std::size_t size() const;

 private:
  struct Table {
    std::unordered_map<std::string, std::shared_ptr<const VirtualKey>> by_hash;  // current and previous hashes
    std::unordered_map<std::string, std::shared_ptr<const VirtualKey>> by_id;
  };
  explicit VirtualKeyStore(sqlite3* db) : db_(db) {}
  static bool migrate(sqlite3* db, std::string& error);
  bool load(std::string& error);
  bool save(const VirtualKey& key, std::string& error);
  void publish();

  sqlite3* db_;
  mutable std::mutex admin_mutex_;        // admin operations only, never the request path
  std::map<std::string, VirtualKey> records_;
  core::SharedCell<Table> table_;
};

}  // namespace tollway::auth
