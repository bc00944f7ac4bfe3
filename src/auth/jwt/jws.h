// JWT verification (RFC 7515 compact JWS + RFC 7519 claims), strict by construction: a token is accepted only
// when its header, key choice, signature and claims all pass. Always rejected: alg "none" and unknown algs, an
// alg that does not fit the selected key (HS256 against an RSA key), jku / x5u / jwk / x5c headers, any crit,
// duplicate JSON keys, malformed base64url, more or fewer than three parts, tokens over the size limit.
// Pure: no I/O, no clock (the caller passes `now`), no logging; errors never contain token bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt/jwk.h"
#include "core/strict_json.h"

namespace tollway::auth {

enum class JwtError {
  None,
  TooLarge,
  Malformed,          // not three base64url parts, bad JSON, duplicate keys, non-object header/claims
  AlgNone,
  AlgUnsupported,
  AlgNotAllowed,      // a known alg this issuer is not configured for
  ForbiddenHeader,    // jku, x5u, jwk, x5c, b64
  UnknownCrit,
  UnknownKid,         // the caller may refresh its key set once and retry
  AlgKeyMismatch,     // the selected key cannot be used with the token's alg
  NoMatchingKey,
  BadSignature,
  Expired,
  NotYetValid,
  IssuedInFuture,
  WrongIssuer,
  WrongAudience,
  MissingClaim,
  BadClaim,           // exp/nbf/iat not numbers, aud not string(s)
};

// Stable reason for responses, logs and metric labels ("token_expired", ...). Never includes token content.
std::string_view jwt_error_code(JwtError e);
// One sentence for an error body.
std::string_view jwt_error_message(JwtError e);

struct ParsedJws {
  std::string_view signing_input;  // view into the token
  core::strict_json::Value header;
  std::string payload;             // decoded bytes
  std::string signature;           // decoded bytes
  Algorithm alg = Algorithm::HS256;
  std::optional<std::string> kid;
};

// Parses and checks the header of a compact JWS; the payload is returned as bytes (not necessarily JSON).
std::optional<ParsedJws> parse_compact_jws(std::string_view token, std::size_t max_bytes, JwtError& error);

struct ClaimRules {
  std::vector<std::string> issuers;          // empty: not checked
  std::vector<std::string> audiences;        // empty: not checked; else "aud" must name one of them
  int64_t leeway_seconds = 60;               // clock skew allowed on exp / nbf / iat
  std::vector<std::string> required_claims;  // must be present
  bool require_exp = true;
  std::vector<Algorithm> allowed_algorithms; // empty: any algorithm that fits the key
  std::size_t max_token_bytes = 8192;
};

struct VerifiedJwt {
  core::strict_json::Value claims;
  Algorithm alg = Algorithm::HS256;
  std::string kid;
  int64_t expires_at = 0;  // "exp" (seconds since the epoch), 0 when absent
};

// Checks the registered claims of an already verified claim set against the rules at time `now` (seconds).
JwtError check_claims(const core::strict_json::Value& claims, const ClaimRules& rules, int64_t now);

// The whole verification: parse, pick the key (by kid; without a kid, every key that fits the alg), verify the
// signature, check the claims. nullopt with `error` set on any failure.
std::optional<VerifiedJwt> verify_jwt(std::string_view token, const JwkSet& keys, const ClaimRules& rules, int64_t now,
                                      JwtError& error);

// Produces a compact JWS over `claims_json` with header {"alg","kid","typ":"JWT"}. For the gateway's own tokens.
std::optional<std::string> sign_jwt(const Jwk& key, Algorithm alg, std::string_view claims_json);

}  // namespace tollway::auth
