// JSON Web Keys and the JWS signature algorithms (RFC 7517 / 7518 / 8037) on OpenSSL 3 EVP: reading public keys
// and key sets, checking that an algorithm fits a key (an HMAC algorithm never runs with an RSA/EC key, and an
// ES curve must match), verifying and producing signatures. Pure computation: no I/O, no logging; secrets
// (HMAC keys, private keys) are never copied into error messages, and MACs are compared in constant time.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strict_json.h"

namespace tollway::auth {

enum class Algorithm { HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA };

std::optional<Algorithm> algorithm_from_name(std::string_view name);
std::string_view algorithm_name(Algorithm alg);
bool is_hmac(Algorithm alg);

enum class KeyType { Oct, Rsa, Ec, Okp };

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

// One key usable for signature verification (and, with a private part, for signing).
struct Jwk {
  std::string kid;      // "" when the key names none
  KeyType type = KeyType::Oct;
  std::string alg;      // the JWK's own "alg" restriction, "" when none
  std::string curve;    // EC: P-256 / P-384 / P-521; OKP: Ed25519 / Ed448
  PkeyPtr key;          // RSA / EC / OKP (public, or private for signing)
  std::string secret;   // oct: the HMAC key bytes

  // The algorithm may be used with this key: family matches kty, ES curve matches, JWK "alg" (if any) matches,
  // HMAC keys are at least as long as the hash output (RFC 7518 §3.2).
  bool fits(Algorithm alg) const;
};

struct JwkSet {
  std::vector<Jwk> keys;
};

// Reads one JWK object. Keys with "use" other than "sig" and unsupported kty/crv are errors here;
// parse_jwk_set skips them instead (RFC 7517 §5: ignore keys you do not understand).
std::optional<Jwk> parse_jwk(const core::strict_json::Value& object, std::string& error);
// A JWKS document {"keys":[...]}; an error when it is malformed or holds no usable key.
std::optional<JwkSet> parse_jwk_set(std::string_view text, std::string& error);

// Verifies `signature` over `signing_input`. False for any mismatch, including a key that does not fit `alg`.
bool verify_signature(Algorithm alg, const Jwk& key, std::string_view signing_input, std::string_view signature);

// Signs with a private key (RSA/EC/OKP) or HMAC secret; ES signatures come out as JOSE's fixed-size R||S.
// nullopt when the key does not fit or OpenSSL fails.
std::optional<std::string> sign(Algorithm alg, const Jwk& key, std::string_view signing_input);

// A fresh signing key for the gateway's own tokens: EC P-256 (ES256) with the given kid.
std::optional<Jwk> generate_es256_key(std::string kid);
// The public JWK of an EC or OKP key as a JSON object text ({"kty","crv","x","y","kid","alg","use"}).
std::string public_jwk_json(const Jwk& key, Algorithm alg);

}  // namespace tollway::auth
