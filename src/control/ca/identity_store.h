// IdentityStore: the control plane's identity records in SQLite (STATE_DIR/identity.db) — the trust domain its CA
// serves, the join tokens (each bound to one SPIFFE ID, expiring, one-time) and the audit of every token minted
// and every certificate issued. A token is kept only as its SHA-256: the token itself is returned once, by mint(),
// and never stored, logged or listed. A token is consumed only together with the record of the certificate it
// paid for, in one transaction, so it can never pay for two. It also holds the generated root's rotation schedule
// (control/ca/root_schedule.h), each rotation recorded with its audit entry in one transaction. It never signs
// anything and never decides an identity: the identity is the one the token was minted for.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/ca/root_schedule.h"
#include "tls/spiffe_id.h"

struct sqlite3;

namespace tollway::control {

// RFC 3339 UTC, seconds ("2026-12-05T22:43:22Z").
std::string utc_text(std::chrono::system_clock::time_point at);

class IdentityStore {
 public:
  using Clock = std::chrono::system_clock;
  static constexpr std::size_t kTokenBytes = 32;
  static constexpr std::string_view kTokenPrefix = "twjoin_";

  // `path` "" = in memory. must_exist opens an existing file only (the CLI: the control plane creates it).
  static std::unique_ptr<IdentityStore> open(const std::string& path, bool must_exist, std::string& error);
  ~IdentityStore();
  IdentityStore(const IdentityStore&) = delete;
  IdentityStore& operator=(const IdentityStore&) = delete;

  // The control plane's trust domain, recorded when it starts with its CA; "" when it never has.
  std::optional<std::string> trust_domain(std::string& error);
  bool set_trust_domain(std::string_view trust_domain, std::string& error);
  // What the running control plane recorded of itself for the commands: "ca_source" ("generated" or "supplied":
  // --ca-cert) and "svid_lifetime_s". "" when never set.
  std::optional<std::string> setting(std::string_view key, std::string& error);
  bool set_setting(std::string_view key, std::string_view value, std::string& error);

  struct MintedToken {
    std::string token;  // twjoin_ + 64 hex digits (32 bytes from the CSPRNG): shown once, never stored
    std::string hash_prefix;
    Clock::time_point expires_at;
  };
  // A new join token for `identity`, valid for `ttl` from `now`. Refused unless the store has a trust domain
  // and `identity` is in it, of the form spiffe://TD/ns/NAMESPACE/sa/AGENT.
  std::optional<MintedToken> mint(const tls::SpiffeId& identity, std::chrono::seconds ttl, Clock::time_point now,
                                  std::string& error);

  struct TokenCheck {
    std::optional<tls::SpiffeId> identity;  // set when the token may pay for a certificate now
    std::string token_hash;                 // its SHA-256, hex
    std::string refusal;                    // why not: unknown, already used, expired
  };
  // What `token` is good for at `now`. Consumes nothing.
  TokenCheck check(std::string_view token, Clock::time_point now);

  struct Issuance {
    std::string identity;
    std::string serial_hex;
    Clock::time_point not_after;
  };
  // Consumes the token `token_hash` (unused and unexpired at `now`) and records `issued` as paid by it, in one
  // transaction. false with `error` when the token was consumed or expired meanwhile: nothing is recorded.
  bool redeem(std::string_view token_hash, const Issuance& issued, Clock::time_point now, std::string& error);
  // Records `issued` as a renewal paid by the caller's current certificate (token "renewal").
  bool record_renewal(const Issuance& issued, Clock::time_point now, std::string& error);

  // Whether this CA ever issued a certificate (by join or renewal) for `identity`; false also when the store
  // cannot be read.
  bool has_issued(std::string_view identity);

  // The generated root's rotation schedule, by generation; empty = the first root alone, never rotated.
  std::optional<std::vector<RootGeneration>> root_schedule(std::string& error);
  // Records `rotation` (the new generation and the active root's retirement) and its audit entry (event
  // "ca_rotated", identity spiffe://TD, token root-N, the new root's serial and expiry) in one transaction. false
  // with `error` when the schedule changed since `rotation` was planned from it.
  bool record_rotation(const PlannedRotation& rotation, std::string_view trust_domain, std::string_view serial_hex,
                       Clock::time_point root_not_after, Clock::time_point now, std::string& error);

  struct AuditEntry {
    std::string at;          // RFC 3339
    std::string event;       // "token_minted", "certificate_issued" or "ca_rotated"
    std::string identity;
    std::string token;       // the first 12 hex digits of the token's SHA-256, "renewal", or (ca_rotated) root-N
    std::string serial;      // issued: the certificate's serial (hex); ca_rotated: the new root's; minted: ""
    std::string not_after;   // issued: the certificate's expiry; minted: the token's; ca_rotated: the new root's
  };
  // Every mint and issuance, oldest first.
  std::optional<std::vector<AuditEntry>> audit(std::string& error);

 private:
  explicit IdentityStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace tollway::control
