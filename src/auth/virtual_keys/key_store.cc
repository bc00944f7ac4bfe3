#include "auth/virtual_keys/key_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <iterator>

#include "auth/jwt/base64url.h"
#include "auth/virtual_keys/key_limits.h"
#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::auth {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    tollway::json::append_quoted(out, items[i]);
  }
  return out + "]";
}

std::vector<std::string> parse_list(const char* text) {
  std::vector<std::string> out;
  if (text == nullptr) return out;
  std::string error;
  auto v = core::strict_json::parse(text, error);
  if (!v || !v->is_array()) return out;
  for (const auto& item : v->items())
    if (item.is_string()) out.push_back(item.as_string());
  return out;
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr); }
  ~Statement() { sqlite3_finalize(stmt); }
};

const char* column_text(sqlite3_stmt* s, int i) { return reinterpret_cast<const char*>(sqlite3_column_text(s, i)); }
std::string column_string(sqlite3_stmt* s, int i) {
  const char* t = column_text(s, i);
  return t ? std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}
std::string column_blob(sqlite3_stmt* s, int i) {
  const void* b = sqlite3_column_blob(s, i);
  return b ? std::string(static_cast<const char*>(b), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// Whether a key is still alive at `now`: not revoked, not expired (revocation is reported first).
KeyCheck lifetime_check(const VirtualKey& k, int64_t now) {
  if (k.revoked_at != 0) return KeyCheck::Revoked;
  if (k.expires_at != 0 && now >= k.expires_at) return KeyCheck::Expired;
  return KeyCheck::Ok;
}

}  // namespace

std::string_view key_check_code(KeyCheck c) {
  switch (c) {
    case KeyCheck::Ok: return "ok";
    case KeyCheck::Unknown: return "unknown_key";
    case KeyCheck::Revoked: return "key_revoked";
    case KeyCheck::Expired: return "key_expired";
    case KeyCheck::RotatedOut: return "key_rotated";
  }
  return "unknown_key";
}

std::string generate_virtual_key_secret() { return "tw-" + base64url_encode(random_bytes(32)); }

// The SHA-256 implementation is fetched from OpenSSL's provider once per process and each thread keeps one
// digest context: EVP_Digest(EVP_sha256()) fetched the algorithm and made a context on every call, more than
// half of the cost of hashing a 46-byte key (callgrind: 6,045 instructions per request before).
std::string hash_secret(std::string_view secret) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha256 == nullptr || !context || EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &len) != 1)
    return std::string();  // as EVP_Digest's failure was: no stored hash is empty, so nothing matches
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::unique_ptr<VirtualKeyStore> VirtualKeyStore::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    error = "cannot open the virtual key store \"" + path + "\": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  const char* schema =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE IF NOT EXISTS virtual_keys ("
      " id TEXT PRIMARY KEY, secret_sha256 BLOB NOT NULL, previous_sha256 BLOB,"
      " previous_valid_until INTEGER NOT NULL DEFAULT 0, display_prefix TEXT NOT NULL, name TEXT NOT NULL,"
      " tenant TEXT NOT NULL, agent_group TEXT NOT NULL, agent TEXT NOT NULL, routes TEXT NOT NULL,"
      " models TEXT NOT NULL, max_tokens INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
      " created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL, limits TEXT NOT NULL);";
  char* message = nullptr;
  if (sqlite3_exec(db, schema, nullptr, nullptr, &message) != SQLITE_OK) {
    error = "cannot initialise the virtual key store \"" + path + "\": " + (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
    return nullptr;
  }
  if (!migrate(db, error)) {
    error = "cannot migrate the virtual key store \"" + path + "\": " + error;
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<VirtualKeyStore> store(new VirtualKeyStore(db));
  if (!store->load(error)) return nullptr;
  store->publish();
  return store;
}

VirtualKeyStore::~VirtualKeyStore() { sqlite3_close(db_); }

// Schema changes after the first version, applied in order to a file whose PRAGMA user_version is lower; each in
// one transaction with its version bump.
bool VirtualKeyStore::migrate(sqlite3* db, std::string& error) {
  static constexpr const char* kMigrations[] = {
      // 1: free-form metadata; the start of a key's budget periods (0 on older rows = its creation).
      "ALTER TABLE virtual_keys ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';"
      "ALTER TABLE virtual_keys ADD COLUMN budget_anchor INTEGER NOT NULL DEFAULT 0;",
  };
  int64_t version = 0;
  {
    Statement q(db, "PRAGMA user_version");
    if (q.stmt != nullptr && sqlite3_step(q.stmt) == SQLITE_ROW) version = sqlite3_column_int64(q.stmt, 0);
  }
  for (int64_t step = version; step < static_cast<int64_t>(std::size(kMigrations)); ++step) {
    const std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[step] +
                            "PRAGMA user_version=" + std::to_string(step + 1) + ";COMMIT;";
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      error = "schema version " + std::to_string(step + 1) + ": " + (message ? message : "");
      sqlite3_free(message);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
  }
  return true;
}

bool VirtualKeyStore::load(std::string& error) {
  Statement q(db_,
              "SELECT id, secret_sha256, previous_sha256, previous_valid_until, display_prefix, name, tenant,"
              " agent_group, agent, routes, models, max_tokens, expires_at, created_at, revoked_at, limits,"
              " metadata, budget_anchor FROM virtual_keys");
  if (q.stmt == nullptr) {
    error = std::string("cannot read the virtual key store: ") + sqlite3_errmsg(db_);
    return false;
  }
  while (sqlite3_step(q.stmt) == SQLITE_ROW) {
    VirtualKey k;
    k.id = column_string(q.stmt, 0);
    k.secret_sha256 = column_blob(q.stmt, 1);
    k.previous_sha256 = column_blob(q.stmt, 2);
    k.previous_valid_until = sqlite3_column_int64(q.stmt, 3);
    k.display_prefix = column_string(q.stmt, 4);
    k.name = column_string(q.stmt, 5);
    k.tenant = column_string(q.stmt, 6);
    k.agent_group = column_string(q.stmt, 7);
    k.agent = column_string(q.stmt, 8);
    k.routes = parse_list(column_text(q.stmt, 9));
    k.models = parse_list(column_text(q.stmt, 10));
    k.max_tokens = static_cast<uint64_t>(sqlite3_column_int64(q.stmt, 11));
    k.expires_at = sqlite3_column_int64(q.stmt, 12);
    k.created_at = sqlite3_column_int64(q.stmt, 13);
    k.revoked_at = sqlite3_column_int64(q.stmt, 14);
    k.limits_json = column_string(q.stmt, 15);
    k.metadata_json = column_string(q.stmt, 16);
    k.budget_anchor = sqlite3_column_int64(q.stmt, 17);
    if (k.budget_anchor == 0) k.budget_anchor = k.created_at;
    records_[k.id] = std::move(k);
  }
  return true;
}

bool VirtualKeyStore::save(const VirtualKey& k, std::string& error) {
  Statement q(db_,
              "INSERT OR REPLACE INTO virtual_keys (id, secret_sha256, previous_sha256, previous_valid_until,"
              " display_prefix, name, tenant, agent_group, agent, routes, models, max_tokens, expires_at,"
              " created_at, revoked_at, limits, metadata, budget_anchor) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (q.stmt == nullptr) {
    error = std::string("virtual key store: ") + sqlite3_errmsg(db_);
    return false;
  }
  const std::string routes = json_list(k.routes), models = json_list(k.models);
  sqlite3_bind_text(q.stmt, 1, k.id.data(), static_cast<int>(k.id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(q.stmt, 2, k.secret_sha256.data(), static_cast<int>(k.secret_sha256.size()), SQLITE_TRANSIENT);
  if (k.previous_sha256.empty()) sqlite3_bind_null(q.stmt, 3);
  else sqlite3_bind_blob(q.stmt, 3, k.previous_sha256.data(), static_cast<int>(k.previous_sha256.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(q.stmt, 4, k.previous_valid_until);
  int i = 5;
  for (const std::string* s : {&k.display_prefix, &k.name, &k.tenant, &k.agent_group, &k.agent, &routes, &models})
    sqlite3_bind_text(q.stmt, i++, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(q.stmt, 12, static_cast<int64_t>(k.max_tokens));
  sqlite3_bind_int64(q.stmt, 13, k.expires_at);
  sqlite3_bind_int64(q.stmt, 14, k.created_at);
  sqlite3_bind_int64(q.stmt, 15, k.revoked_at);
  sqlite3_bind_text(q.stmt, 16, k.limits_json.data(), static_cast<int>(k.limits_json.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(q.stmt, 17, k.metadata_json.data(), static_cast<int>(k.metadata_json.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(q.stmt, 18, k.budget_anchor);
  if (sqlite3_step(q.stmt) != SQLITE_DONE) {
    error = std::string("virtual key store write failed: ") + sqlite3_errmsg(db_);
    return false;
  }
  return true;
}

void VirtualKeyStore::publish() {
  auto table = std::make_shared<Table>();
  for (const auto& [id, record] : records_) {
    auto copy = std::make_shared<VirtualKey>(record);
    auto policy = std::make_shared<CallerPolicy>();
    policy->routes = record.routes;
    policy->models = record.models;
    policy->max_tokens = record.max_tokens;
    policy->key_id = record.id;
    policy->key_limits = key_limits_from_text(record.limits_json);
    policy->key_limits.budget_anchor_s = record.budget_anchor;
    copy->policy = std::move(policy);
    std::shared_ptr<const VirtualKey> shared = std::move(copy);
    table->by_id.emplace(id, shared);
    table->by_hash.emplace(record.secret_sha256, shared);
    if (!record.previous_sha256.empty()) table->by_hash.emplace(record.previous_sha256, shared);
  }
  table_.store(std::move(table));
}

std::shared_ptr<const VirtualKey> VirtualKeyStore::authenticate(std::string_view secret, int64_t now,
                                                                KeyCheck& why) const {
  const std::string digest = hash_secret(secret);
  const auto& table = table_.read();
  const auto it = table->by_hash.find(digest);
  if (it == table->by_hash.end()) {
    why = KeyCheck::Unknown;
    return nullptr;
  }
  const VirtualKey& k = *it->second;
  const bool current = k.secret_sha256.size() == digest.size() &&
                       CRYPTO_memcmp(k.secret_sha256.data(), digest.data(), digest.size()) == 0;
  const bool previous = !current && k.previous_sha256.size() == digest.size() &&
                        CRYPTO_memcmp(k.previous_sha256.data(), digest.data(), digest.size()) == 0;
  if (!current && !previous) {
    why = KeyCheck::Unknown;
    return nullptr;
  }
  why = lifetime_check(k, now);
  if (why != KeyCheck::Ok) return nullptr;
  if (previous && now >= k.previous_valid_until) {
    why = KeyCheck::RotatedOut;
    return nullptr;
  }
  why = KeyCheck::Ok;
  return it->second;
}

std::shared_ptr<const VirtualKey> VirtualKeyStore::active_key(const std::string& id, int64_t now,
                                                               KeyCheck& why) const {
  const auto& table = table_.read();
  const auto it = table->by_id.find(id);
  if (it == table->by_id.end()) {
    why = KeyCheck::Unknown;
    return nullptr;
  }
  why = lifetime_check(*it->second, now);
  return why == KeyCheck::Ok ? it->second : nullptr;
}

std::optional<std::pair<VirtualKey, std::string>> VirtualKeyStore::create(const NewVirtualKey& r, int64_t now,
                                                                          std::string& error) {
  std::lock_guard lock(admin_mutex_);
  VirtualKey k;
  k.id = "vk_" + hex(random_bytes(8));
  const std::string secret = generate_virtual_key_secret();
  k.secret_sha256 = hash_secret(secret);
  k.display_prefix = secret.substr(0, 7);
  k.name = r.name;
  k.tenant = r.tenant;
  k.agent_group = r.agent_group;
  k.agent = r.agent;
  k.routes = r.routes;
  k.models = r.models;
  k.max_tokens = r.max_tokens;
  k.expires_at = r.expires_at;
  k.created_at = now;
  k.limits_json = r.limits_json.empty() ? "{}" : r.limits_json;
  k.metadata_json = r.metadata_json.empty() ? "{}" : r.metadata_json;
  k.budget_anchor = now;
  if (!save(k, error)) return std::nullopt;
  records_[k.id] = k;
  publish();
  return std::make_pair(std::move(k), secret);
}

std::vector<VirtualKey> VirtualKeyStore::list() const {
  std::lock_guard lock(admin_mutex_);
  std::vector<VirtualKey> out;
  for (const auto& [id, k] : records_) out.push_back(k);
  return out;
}

std::optional<VirtualKey> VirtualKeyStore::get(const std::string& id) const {
  std::lock_guard lock(admin_mutex_);
  const auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::optional<VirtualKey> VirtualKeyStore::update(const std::string& id, const VirtualKeyChange& change, int64_t now,
                                                  std::string& error) {
  std::lock_guard lock(admin_mutex_);
  const auto it = records_.find(id);
  if (it == records_.end()) {
    error = "no virtual key with id \"" + id + "\"";
    return std::nullopt;
  }
  VirtualKey k = it->second;
  if (change.name) k.name = *change.name;
  if (change.routes) k.routes = *change.routes;
  if (change.models) k.models = *change.models;
  if (change.max_tokens) k.max_tokens = *change.max_tokens;
  if (change.expires_at) k.expires_at = *change.expires_at;
  if (change.metadata_json) k.metadata_json = *change.metadata_json;
  if (change.limits_json) {
    const KeyLimits before = key_limits_from_text(k.limits_json), after = key_limits_from_text(*change.limits_json);
    if (after.max_budget_micro_usd > 0 && (before.max_budget_micro_usd == 0 || !same_budget_periods(before, after)))
      k.budget_anchor = now;
    k.limits_json = *change.limits_json;
  }
  if (!save(k, error)) return std::nullopt;
  it->second = k;
  publish();
  return k;
}

std::optional<VirtualKey> VirtualKeyStore::revoke(const std::string& id, int64_t now, std::string& error) {
  std::lock_guard lock(admin_mutex_);
  const auto it = records_.find(id);
  if (it == records_.end()) {
    error = "no virtual key with id \"" + id + "\"";
    return std::nullopt;
  }
  VirtualKey k = it->second;
  if (k.revoked_at == 0) k.revoked_at = now;
  if (!save(k, error)) return std::nullopt;
  it->second = k;
  publish();
  return k;
}

std::optional<std::pair<VirtualKey, std::string>> VirtualKeyStore::rotate(const std::string& id, int64_t grace_seconds,
                                                                          int64_t now, std::string& error) {
  std::lock_guard lock(admin_mutex_);
  const auto it = records_.find(id);
  if (it == records_.end()) {
    error = "no virtual key with id \"" + id + "\"";
    return std::nullopt;
  }
  if (it->second.revoked_at != 0) {
    error = "virtual key \"" + id + "\" is revoked; create a new one";
    return std::nullopt;
  }
  VirtualKey k = it->second;
  const std::string secret = generate_virtual_key_secret();
  k.previous_sha256 = k.secret_sha256;
  k.previous_valid_until = now + grace_seconds;
  k.secret_sha256 = hash_secret(secret);
  k.display_prefix = secret.substr(0, 7);
  if (!save(k, error)) return std::nullopt;
  it->second = k;
  publish();
  return std::make_pair(std::move(k), secret);
}

std::size_t VirtualKeyStore::size() const {
  return table_.load()->by_id.size();
}

}  // namespace tollway::auth
