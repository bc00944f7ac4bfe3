#include "auth/jwt/jws.h"

#include <cmath>

#include "auth/jwt/base64url.h"

namespace tollway::auth {

std::string_view jwt_error_code(JwtError e) {
  switch (e) {
    case JwtError::None: return "ok";
    case JwtError::TooLarge: return "token_too_large";
    case JwtError::Malformed: return "token_malformed";
    case JwtError::AlgNone: return "alg_none";
    case JwtError::AlgUnsupported: return "alg_unsupported";
    case JwtError::AlgNotAllowed: return "alg_not_allowed";
    case JwtError::ForbiddenHeader: return "forbidden_header";
    case JwtError::UnknownCrit: return "unknown_crit";
    case JwtError::UnknownKid: return "unknown_kid";
    case JwtError::AlgKeyMismatch: return "alg_key_mismatch";
    case JwtError::NoMatchingKey: return "no_matching_key";
    case JwtError::BadSignature: return "bad_signature";
    case JwtError::Expired: return "token_expired";
    case JwtError::NotYetValid: return "token_not_yet_valid";
    case JwtError::IssuedInFuture: return "token_issued_in_future";
    case JwtError::WrongIssuer: return "wrong_issuer";
    case JwtError::WrongAudience: return "wrong_audience";
    case JwtError::MissingClaim: return "missing_claim";
    case JwtError::BadClaim: return "bad_claim";
  }
  return "invalid_token";
}

std::string_view jwt_error_message(JwtError e) {
  switch (e) {
    case JwtError::None: return "ok";
    case JwtError::TooLarge: return "The bearer token is larger than this gateway accepts.";
    case JwtError::Malformed: return "The bearer token is not a well-formed JWT.";
    case JwtError::AlgNone: return "Unsigned tokens (alg \"none\") are not accepted.";
    case JwtError::AlgUnsupported: return "The token's signature algorithm is not supported.";
    case JwtError::AlgNotAllowed: return "The token's signature algorithm is not allowed for its issuer.";
    case JwtError::ForbiddenHeader: return "Tokens with jku, x5u, jwk, x5c or b64 headers are not accepted.";
    case JwtError::UnknownCrit: return "The token marks header parameters critical that this gateway does not understand.";
    case JwtError::UnknownKid: return "The token's key id is not known.";
    case JwtError::AlgKeyMismatch: return "The token's algorithm does not fit the key it names.";
    case JwtError::NoMatchingKey: return "No configured key can verify this token.";
    case JwtError::BadSignature: return "The token's signature is invalid.";
    case JwtError::Expired: return "The token has expired.";
    case JwtError::NotYetValid: return "The token is not valid yet.";
    case JwtError::IssuedInFuture: return "The token's issue time is in the future.";
    case JwtError::WrongIssuer: return "The token's issuer is not accepted.";
    case JwtError::WrongAudience: return "The token is not meant for this audience.";
    case JwtError::MissingClaim: return "The token lacks a required claim.";
    case JwtError::BadClaim: return "The token has a malformed registered claim.";
  }
  return "The token is invalid.";
}

std::optional<ParsedJws> parse_compact_jws(std::string_view token, std::size_t max_bytes, JwtError& error) {
  if (token.size() > max_bytes) {
    error = JwtError::TooLarge;
    return std::nullopt;
  }
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  auto header_bytes = base64url_decode(token.substr(0, dot1));
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_bytes || !payload || !signature || header_bytes->empty()) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  std::string json_error;
  auto header = core::strict_json::parse(*header_bytes, json_error, core::strict_json::ParseLimits{4096, 4});
  if (!header || !header->is_object()) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  ParsedJws out;
  const core::strict_json::Value* alg = header->find("alg");
  if (alg == nullptr || !alg->is_string()) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  if (alg->as_string() == "none" || alg->as_string() == "None" || alg->as_string() == "NONE") {
    error = JwtError::AlgNone;
    return std::nullopt;
  }
  auto algorithm = algorithm_from_name(alg->as_string());
  if (!algorithm) {
    error = JwtError::AlgUnsupported;
    return std::nullopt;
  }
  for (const char* forbidden : {"jku", "x5u", "jwk", "x5c", "b64"}) {
    if (header->find(forbidden) != nullptr) {
      error = JwtError::ForbiddenHeader;
      return std::nullopt;
    }
  }
  if (header->find("crit") != nullptr) {  // this verifier understands no extension parameter
    error = JwtError::UnknownCrit;
    return std::nullopt;
  }
  if (const core::strict_json::Value* kid = header->find("kid")) {
    if (!kid->is_string()) {
      error = JwtError::Malformed;
      return std::nullopt;
    }
    out.kid = kid->as_string();
  }
  if (signature->empty()) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  out.signing_input = token.substr(0, dot2);
  out.header = std::move(*header);
  out.payload = std::move(*payload);
  out.signature = std::move(*signature);
  out.alg = *algorithm;
  return out;
}

namespace {

// A NumericDate: a JSON number (fractions allowed), floored.
bool numeric_date(const core::strict_json::Value& claims, std::string_view name,
                  std::optional<int64_t>& out) {
  const core::strict_json::Value* v = claims.find(name);
  if (v == nullptr) return true;
  if (!v->is_number()) return false;
  const double d = v->as_number();
  if (!(d > -1e15 && d < 1e15)) return false;
  out = static_cast<int64_t>(std::floor(d));
  return true;
}

}  // namespace

JwtError check_claims(const core::strict_json::Value& claims, const ClaimRules& rules, int64_t now) {
  if (!claims.is_object()) return JwtError::Malformed;
  std::optional<int64_t> exp, nbf, iat;
  if (!numeric_date(claims, "exp", exp) || !numeric_date(claims, "nbf", nbf) || !numeric_date(claims, "iat", iat))
    return JwtError::BadClaim;
  if (!exp && rules.require_exp) return JwtError::MissingClaim;
  if (exp && now >= *exp + rules.leeway_seconds) return JwtError::Expired;
  if (nbf && now + rules.leeway_seconds < *nbf) return JwtError::NotYetValid;
  if (iat && *iat > now + rules.leeway_seconds) return JwtError::IssuedInFuture;
  if (!rules.issuers.empty()) {
    const auto iss = claims.string_member("iss");
    if (!iss) return JwtError::WrongIssuer;
    bool known = false;
    for (const auto& i : rules.issuers) known |= (i == *iss);
    if (!known) return JwtError::WrongIssuer;
  }
  if (!rules.audiences.empty()) {
    const core::strict_json::Value* aud = claims.find("aud");
    if (aud == nullptr) return JwtError::WrongAudience;
    bool match = false;
    auto consider = [&](const core::strict_json::Value& v) {
      if (!v.is_string()) return false;
      for (const auto& a : rules.audiences) match |= (a == v.as_string());
      return true;
    };
    if (aud->is_array()) {
      for (const auto& item : aud->items())
        if (!consider(item)) return JwtError::BadClaim;
    } else if (!consider(*aud)) {
      return JwtError::BadClaim;
    }
    if (!match) return JwtError::WrongAudience;
  }
  for (const auto& name : rules.required_claims)
    if (claims.find(name) == nullptr) return JwtError::MissingClaim;
  return JwtError::None;
}

std::optional<VerifiedJwt> verify_jwt(std::string_view token, const JwkSet& keys, const ClaimRules& rules, int64_t now,
                                      JwtError& error) {
  auto parsed = parse_compact_jws(token, rules.max_token_bytes, error);
  if (!parsed) return std::nullopt;
  if (!rules.allowed_algorithms.empty()) {
    bool allowed = false;
    for (auto a : rules.allowed_algorithms) allowed |= (a == parsed->alg);
    if (!allowed) {
      error = JwtError::AlgNotAllowed;
      return std::nullopt;
    }
  }
  std::vector<const Jwk*> candidates;
  bool kid_known = false;
  for (const auto& k : keys.keys) {
    if (parsed->kid && k.kid != *parsed->kid) continue;
    kid_known = true;
    if (k.fits(parsed->alg)) candidates.push_back(&k);
  }
  if (parsed->kid && !kid_known) {
    error = JwtError::UnknownKid;
    return std::nullopt;
  }
  if (candidates.empty()) {
    error = parsed->kid ? JwtError::AlgKeyMismatch : JwtError::NoMatchingKey;
    return std::nullopt;
  }
  const Jwk* verified_by = nullptr;
  for (std::size_t i = 0; i < candidates.size() && i < 8 && verified_by == nullptr; ++i)
    if (verify_signature(parsed->alg, *candidates[i], parsed->signing_input, parsed->signature))
      verified_by = candidates[i];
  if (verified_by == nullptr) {
    error = JwtError::BadSignature;
    return std::nullopt;
  }
  std::string json_error;
  auto claims = core::strict_json::parse(parsed->payload, json_error,
                                         core::strict_json::ParseLimits{rules.max_token_bytes, 16});
  if (!claims || !claims->is_object()) {
    error = JwtError::Malformed;
    return std::nullopt;
  }
  error = check_claims(*claims, rules, now);
  if (error != JwtError::None) return std::nullopt;
  VerifiedJwt out;
  if (const core::strict_json::Value* exp = claims->find("exp"))
    out.expires_at = static_cast<int64_t>(std::floor(exp->as_number()));
  out.claims = std::move(*claims);
  out.alg = parsed->alg;
  out.kid = verified_by->kid;
  return out;
}

std::optional<std::string> sign_jwt(const Jwk& key, Algorithm alg, std::string_view claims_json) {
  std::string header = "{\"alg\":\"" + std::string(algorithm_name(alg)) + "\",\"typ\":\"JWT\"";
  if (!key.kid.empty()) header += ",\"kid\":\"" + key.kid + "\"";  // our kids are [A-Za-z0-9_-]
  header += "}";
  std::string input = base64url_encode(header) + "." + base64url_encode(claims_json);
  auto signature = sign(alg, key, input);
  if (!signature) return std::nullopt;
  return input + "." + base64url_encode(*signature);
}

}  // namespace tollway::auth
