// CallerAuthFilter: the authenticate phase, active when the config has `auth:`. Reads the caller's credential
// from `Authorization: Bearer`, `x-api-key` or `api-key` (two different credentials in one request are
// rejected), checks a virtual key ("tw-…") against the VirtualKeyStore or verifies a JWT against its issuer's
// keys (the gateway's own token-exchange issuer included), and fills ctx.caller. Without a credential, a peer whose
// verified client certificate's SPIFFE ID `auth.spiffe` maps is that caller; a SPIFFE ID on the deny list gets 403
// whatever credential the request carries (auth/caller/spiffe_callers.h). Verified JWTs are cached per
// worker thread by SHA-256 of the token until they expire, so a repeated token costs a hash and a lookup.
// Anything else gets 401 in the caller's API format with `WWW-Authenticate: Bearer realm="tollway"`; the
// message names the reason, never the presented credential. It never logs credentials.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auth/caller/auth_counters.h"
#include "auth/caller/jwks_source.h"
#include "auth/caller/spiffe_callers.h"
#include "auth/jwt/jws.h"
#include "auth/token_exchange/token_signer.h"
#include "auth/virtual_keys/key_store.h"
#include "config/auth_config.h"
#include "pipeline/filter.h"

namespace tollway::auth {

namespace asio = boost::asio;

// One configured issuer as the filter uses it.
struct JwtIssuer {
  config::JwtIssuerConfig config;
  ClaimRules rules;
  std::shared_ptr<JwksSource> keys;
  std::shared_ptr<const CallerPolicy> policy;
};

// Result of authenticating one credential (also used by the token exchange endpoint).
struct AuthOutcome {
  bool ok = false;
  AuthMethod method = AuthMethod::None;
  std::string_view reason = "missing_credential";
  std::string message;
  pipeline::Caller caller;
};

class CallerAuthFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the `auth` section (the issuers come built, with their keys, as `issuers`).
  struct Config {
    config::TokenExchangeConfig token_exchange;  // the gateway's own tokens: accepted when enabled and signed
    std::chrono::milliseconds clock_skew{60'000};
    uint64_t max_token_bytes = 8192;
    config::SpiffeAuthConfig spiffe;  // callers by the SPIFFE ID of their client certificate, and the deny list
  };
  struct Dependencies {
    VirtualKeyStore* keys = nullptr;     // null: virtual keys are not accepted
    const TokenSigner* signer = nullptr; // null: token exchange off (its tokens are not accepted)
    AuthCounters* counters = nullptr;
  };
  CallerAuthFilter(Config config, Dependencies deps, std::vector<JwtIssuer> issuers);

  std::string_view name() const override { return "caller_auth"; }
  asio::awaitable<pipeline::Verdict> authenticate(pipeline::RequestCtx& ctx) override;

  // The credential of a request: the one value of Authorization: Bearer / x-api-key / api-key. Empty when none;
  // `ambiguous` when two different ones are present.
  static std::string_view presented_credential(const http::RequestHead& head, bool& ambiguous);
  // Checks one credential; awaits only for an on-demand JWKS refresh.
  asio::awaitable<AuthOutcome> check(std::string_view credential, int64_t now) const;
  // Fills ctx.reply with the 401 for an outcome.
  static void reply_unauthorized(pipeline::RequestCtx& ctx, const AuthOutcome& outcome);

 private:
  AuthOutcome check_virtual_key(std::string_view secret, int64_t now) const;
  // The per-thread cache of verified JWTs; true when it decided (accepted, or the minting key is revoked).
  bool check_cached_jwt(std::string_view token, const std::string& digest, int64_t now, AuthOutcome& out) const;
  asio::awaitable<AuthOutcome> check_jwt(std::string_view token, int64_t now) const;

  Config config_;
  Dependencies deps_;
  std::vector<JwtIssuer> issuers_;
  ClaimRules exchange_rules_;
  SpiffeCallers spiffe_callers_;
  uint64_t instance_id_;  // tags this filter's entries in the per-thread JWT cache
};

}  // namespace tollway::auth
