#include "control/ca/identity_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <ctime>

#include "control/sqlite_statement.h"

namespace tollway::control {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS settings(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS join_tokens(
  token_sha256 TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  minted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER);
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  identity TEXT NOT NULL,
  token TEXT NOT NULL,
  serial TEXT NOT NULL,
  not_after INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_identity ON audit(identity, event);
CREATE TABLE IF NOT EXISTS ca_roots(
  generation INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  activates_at INTEGER NOT NULL,
  retires_at INTEGER);
)sql";

constexpr std::size_t kHashPrefixLength = 12;

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

// SHA-256 (OpenSSL) of a token, hex; "" when the digest fails.
std::string token_sha256(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) != 1) return {};
  return hex(digest, length);
}

int64_t seconds_of(IdentityStore::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

IdentityStore::Clock::time_point time_of(int64_t seconds) {
  return IdentityStore::Clock::time_point(std::chrono::seconds(seconds));
}

// spiffe://TD/ns/NAMESPACE/sa/AGENT: "" when `identity` has that shape, else the reason.
std::string check_workload_shape(const tls::SpiffeId& identity) {
  const std::string_view path = identity.path();
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  while (start <= path.size() && !path.empty()) {
    const auto end = path.find('/', start);
    segments.push_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (segments.size() != 4 || segments[0] != "ns" || segments[2] != "sa")
    return identity.text() + " is not of the form spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/AGENT";
  return {};
}

}  // namespace

std::string utc_text(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::unique_ptr<IdentityStore> IdentityStore::open(const std::string& path, bool must_exist, std::string& error) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (must_exist ? 0 : SQLITE_OPEN_CREATE);
  const std::string name = path.empty() ? ":memory:" : path;
  if (sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    error = "cannot open the identity store " + name + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<IdentityStore> store(new IdentityStore(db));
  if (!sqlite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error) ||
      !sqlite_exec(db, kSchema, error)) {
    error = "cannot set up the identity store " + name + ": " + error;
    return nullptr;
  }
  return store;
}

IdentityStore::~IdentityStore() { sqlite3_close(db_); }

std::optional<std::string> IdentityStore::trust_domain(std::string& error) {
  SqliteStatement select(db_, "SELECT value FROM settings WHERE key = 'trust_domain'");
  if (!select.ok()) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  const int rc = select.step();
  if (rc == SQLITE_ROW) return select.text(0);
  if (rc == SQLITE_DONE) return std::string();
  error = "cannot read the identity store: " + select.error();
  return std::nullopt;
}

bool IdentityStore::set_trust_domain(std::string_view trust_domain, std::string& error) {
  SqliteStatement upsert(db_, "INSERT INTO settings(key, value) VALUES('trust_domain', ?1) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!upsert.ok() || upsert.bind(1, trust_domain).step() != SQLITE_DONE) {
    error = "cannot write the identity store: " + upsert.error();
    return false;
  }
  return true;
}

std::optional<std::string> IdentityStore::setting(std::string_view key, std::string& error) {
  SqliteStatement select(db_, "SELECT value FROM settings WHERE key = ?1");
  if (!select.ok()) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  const int rc = select.bind(1, key).step();
  if (rc == SQLITE_ROW) return select.text(0);
  if (rc == SQLITE_DONE) return std::string();
  error = "cannot read the identity store: " + select.error();
  return std::nullopt;
}

bool IdentityStore::set_setting(std::string_view key, std::string_view value, std::string& error) {
  SqliteStatement upsert(db_, "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!upsert.ok() || upsert.bind(1, key).bind(2, value).step() != SQLITE_DONE) {
    error = "cannot write the identity store: " + upsert.error();
    return false;
  }
  return true;
}

bool IdentityStore::has_issued(std::string_view identity) {
  SqliteStatement select(db_, "SELECT 1 FROM audit WHERE identity = ?1 AND event = 'certificate_issued' LIMIT 1");
  return select.ok() && select.bind(1, identity).step() == SQLITE_ROW;
}

std::optional<std::vector<RootGeneration>> IdentityStore::root_schedule(std::string& error) {
  SqliteStatement select(db_, "SELECT generation, created_at, activates_at, retires_at FROM ca_roots "
                              "ORDER BY generation");
  if (!select.ok()) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  std::vector<RootGeneration> schedule;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    RootGeneration root;
    root.generation = select.integer(0);
    root.created_at = time_of(select.integer(1));
    root.activates_at = time_of(select.integer(2));
    if (!select.is_null(3)) root.retires_at = time_of(select.integer(3));
    schedule.push_back(root);
  }
  if (rc != SQLITE_DONE) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  return schedule;
}

bool IdentityStore::record_rotation(const PlannedRotation& rotation, std::string_view trust_domain,
                                    std::string_view serial_hex, Clock::time_point root_not_after,
                                    Clock::time_point now, std::string& error) {
  std::string ignored;
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) return false;
  const auto fail = [&](std::string why) {
    error = std::move(why);
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  };
  // The schedule must still end where the rotation was planned from (another rotation did not win meanwhile).
  SqliteStatement count(db_, "SELECT COUNT(*) FROM ca_roots WHERE generation >= ?1");
  if (count.bind(1, rotation.next.generation).step() != SQLITE_ROW || count.integer(0) != 0)
    return fail("another rotation was recorded meanwhile: run the command again");
  // Generation 1 gets its row the first time (a state directory from before rotation has none).
  SqliteStatement first(db_, "INSERT OR IGNORE INTO ca_roots(generation, created_at, activates_at, retires_at) "
                             "VALUES(?1, ?2, ?3, NULL)");
  first.bind(1, rotation.active.generation).bind(2, seconds_of(rotation.active.created_at));
  first.bind(3, seconds_of(rotation.active.activates_at));
  SqliteStatement retire(db_, "UPDATE ca_roots SET retires_at = ?2 WHERE generation = ?1 AND retires_at IS NULL");
  retire.bind(1, rotation.active.generation).bind(2, seconds_of(*rotation.active.retires_at));
  SqliteStatement insert(db_, "INSERT INTO ca_roots(generation, created_at, activates_at, retires_at) "
                              "VALUES(?1, ?2, ?3, NULL)");
  insert.bind(1, rotation.next.generation).bind(2, seconds_of(rotation.next.created_at));
  insert.bind(3, seconds_of(rotation.next.activates_at));
  SqliteStatement record(db_, "INSERT INTO audit(at, event, identity, token, serial, not_after) "
                              "VALUES(?1, 'ca_rotated', ?2, ?3, ?4, ?5)");
  record.bind(1, seconds_of(now)).bind(2, "spiffe://" + std::string(trust_domain));
  record.bind(3, "root-" + std::to_string(rotation.next.generation)).bind(4, serial_hex);
  record.bind(5, seconds_of(root_not_after));
  if (first.step() != SQLITE_DONE) return fail("cannot record the rotation: " + first.error());
  if (retire.step() != SQLITE_DONE || sqlite3_changes(db_) != 1)
    return fail("another rotation was recorded meanwhile: run the command again");
  if (insert.step() != SQLITE_DONE || record.step() != SQLITE_DONE)
    return fail("cannot record the rotation: " + insert.error() + record.error());
  if (!sqlite_exec(db_, "COMMIT", error)) return fail("cannot record the rotation: " + error);
  return true;
}

std::optional<IdentityStore::MintedToken> IdentityStore::mint(const tls::SpiffeId& identity, std::chrono::seconds ttl,
                                                              Clock::time_point now, std::string& error) {
  const auto domain = trust_domain(error);
  if (!domain) return std::nullopt;
  if (domain->empty()) {
    error = "the control plane has not run with --trust-domain on this state directory: it issues no certificates";
    return std::nullopt;
  }
  if (!identity.member_of(*domain)) {
    error = identity.text() + " is not in the control plane's trust domain " + *domain;
    return std::nullopt;
  }
  if (error = check_workload_shape(identity); !error.empty()) return std::nullopt;
  if (ttl <= std::chrono::seconds(0)) {
    error = "a join token's lifetime must be positive";
    return std::nullopt;
  }
  unsigned char random[kTokenBytes];
  if (RAND_bytes(random, sizeof random) != 1) {
    error = "the CSPRNG failed";
    return std::nullopt;
  }
  MintedToken minted;
  minted.token = std::string(kTokenPrefix) + hex(random, sizeof random);
  const std::string hash = token_sha256(minted.token);
  minted.hash_prefix = hash.substr(0, kHashPrefixLength);
  minted.expires_at = now + ttl;
  if (hash.empty()) {
    error = "SHA-256 failed";
    return std::nullopt;
  }
  std::string ignored;
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) return std::nullopt;
  SqliteStatement insert(db_, "INSERT INTO join_tokens(token_sha256, identity, minted_at, expires_at) "
                              "VALUES(?1, ?2, ?3, ?4)");
  insert.bind(1, hash).bind(2, identity.text()).bind(3, seconds_of(now)).bind(4, seconds_of(minted.expires_at));
  SqliteStatement record(db_, "INSERT INTO audit(at, event, identity, token, serial, not_after) "
                              "VALUES(?1, 'token_minted', ?2, ?3, '', ?4)");
  record.bind(1, seconds_of(now)).bind(2, identity.text()).bind(3, minted.hash_prefix);
  record.bind(4, seconds_of(minted.expires_at));
  if (insert.step() != SQLITE_DONE || record.step() != SQLITE_DONE || !sqlite_exec(db_, "COMMIT", error)) {
    error = "cannot record the join token: " + insert.error();
    sqlite_exec(db_, "ROLLBACK", ignored);
    return std::nullopt;
  }
  return minted;
}

IdentityStore::TokenCheck IdentityStore::check(std::string_view token, Clock::time_point now) {
  TokenCheck verdict;
  verdict.token_hash = token_sha256(token);
  SqliteStatement select(db_, "SELECT identity, expires_at, used_at FROM join_tokens WHERE token_sha256 = ?1");
  if (!select.ok() || select.bind(1, verdict.token_hash).step() != SQLITE_ROW) {
    verdict.refusal = "unknown join token";
    return verdict;
  }
  if (!select.is_null(2)) {
    verdict.refusal = "join token already used (at " + utc_text(time_of(select.integer(2))) + ")";
    return verdict;
  }
  if (seconds_of(now) >= select.integer(1)) {
    verdict.refusal = "join token expired (at " + utc_text(time_of(select.integer(1))) + ")";
    return verdict;
  }
  std::string parse_error;
  verdict.identity = tls::SpiffeId::parse(select.text(0), &parse_error);
  if (!verdict.identity) verdict.refusal = "the join token's identity is not valid: " + parse_error;
  return verdict;
}

bool IdentityStore::redeem(std::string_view token_hash, const Issuance& issued, Clock::time_point now,
                           std::string& error) {
  std::string ignored;
  if (!sqlite_exec(db_, "BEGIN IMMEDIATE", error)) return false;
  SqliteStatement consume(db_, "UPDATE join_tokens SET used_at = ?2 "
                               "WHERE token_sha256 = ?1 AND used_at IS NULL AND expires_at > ?2 AND identity = ?3");
  consume.bind(1, token_hash).bind(2, seconds_of(now)).bind(3, issued.identity);
  if (consume.step() != SQLITE_DONE || sqlite3_changes(db_) != 1) {
    error = "the join token was used or expired meanwhile";
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  }
  SqliteStatement record(db_, "INSERT INTO audit(at, event, identity, token, serial, not_after) "
                              "VALUES(?1, 'certificate_issued', ?2, ?3, ?4, ?5)");
  record.bind(1, seconds_of(now)).bind(2, issued.identity).bind(3, token_hash.substr(0, kHashPrefixLength));
  record.bind(4, issued.serial_hex).bind(5, seconds_of(issued.not_after));
  if (record.step() != SQLITE_DONE || !sqlite_exec(db_, "COMMIT", error)) {
    error = "cannot record the issuance: " + record.error();
    sqlite_exec(db_, "ROLLBACK", ignored);
    return false;
  }
  return true;
}

bool IdentityStore::record_renewal(const Issuance& issued, Clock::time_point now, std::string& error) {
  SqliteStatement record(db_, "INSERT INTO audit(at, event, identity, token, serial, not_after) "
                              "VALUES(?1, 'certificate_issued', ?2, 'renewal', ?3, ?4)");
  record.bind(1, seconds_of(now)).bind(2, issued.identity).bind(3, issued.serial_hex);
  record.bind(4, seconds_of(issued.not_after));
  if (record.step() != SQLITE_DONE) {
    error = "cannot record the renewal: " + record.error();
    return false;
  }
  return true;
}

std::optional<std::vector<IdentityStore::AuditEntry>> IdentityStore::audit(std::string& error) {
  SqliteStatement select(db_, "SELECT at, event, identity, token, serial, not_after FROM audit ORDER BY id");
  if (!select.ok()) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  std::vector<AuditEntry> entries;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW)
    entries.push_back(AuditEntry{utc_text(time_of(select.integer(0))), select.text(1), select.text(2), select.text(3),
                                 select.text(4), utc_text(time_of(select.integer(5)))});
  if (rc != SQLITE_DONE) {
    error = "cannot read the identity store: " + select.error();
    return std::nullopt;
  }
  return entries;
}

}  // namespace tollway::control
