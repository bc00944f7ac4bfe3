#include "auth/jwt/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "auth/jwt/base64url.h"

namespace tollway::auth {
namespace {

struct AlgorithmInfo {
  Algorithm alg;
  std::string_view name;
};
constexpr AlgorithmInfo kAlgorithms[] = {
    {Algorithm::HS256, "HS256"}, {Algorithm::HS384, "HS384"}, {Algorithm::HS512, "HS512"},
    {Algorithm::RS256, "RS256"}, {Algorithm::RS384, "RS384"}, {Algorithm::RS512, "RS512"},
    {Algorithm::PS256, "PS256"}, {Algorithm::PS384, "PS384"}, {Algorithm::PS512, "PS512"},
    {Algorithm::ES256, "ES256"}, {Algorithm::ES384, "ES384"}, {Algorithm::ES512, "ES512"},
    {Algorithm::EdDSA, "EdDSA"},
};

const EVP_MD* digest_of(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS256: case Algorithm::RS256: case Algorithm::PS256: case Algorithm::ES256: return EVP_sha256();
    case Algorithm::HS384: case Algorithm::RS384: case Algorithm::PS384: case Algorithm::ES384: return EVP_sha384();
    case Algorithm::HS512: case Algorithm::RS512: case Algorithm::PS512: case Algorithm::ES512: return EVP_sha512();
    case Algorithm::EdDSA: return nullptr;
  }
  return nullptr;
}

bool is_pss_alg(Algorithm a) { return a == Algorithm::PS256 || a == Algorithm::PS384 || a == Algorithm::PS512; }
bool is_rsa(Algorithm a) {
  return a == Algorithm::RS256 || a == Algorithm::RS384 || a == Algorithm::RS512 || is_pss_alg(a);
}
bool is_ec(Algorithm a) { return a == Algorithm::ES256 || a == Algorithm::ES384 || a == Algorithm::ES512; }

std::string_view curve_for(Algorithm a) {
  switch (a) {
    case Algorithm::ES256: return "P-256";
    case Algorithm::ES384: return "P-384";
    case Algorithm::ES512: return "P-521";
    default: return "";
  }
}
std::size_t ec_field_bytes(std::string_view curve) {
  if (curve == "P-256") return 32;
  if (curve == "P-384") return 48;
  if (curve == "P-521") return 66;
  return 0;
}
const char* openssl_group(std::string_view curve) {
  if (curve == "P-256") return "prime256v1";
  if (curve == "P-384") return "secp384r1";
  if (curve == "P-521") return "secp521r1";
  return nullptr;
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

PkeyPtr wrap(EVP_PKEY* k) { return k ? PkeyPtr(k, EvpPkeyFree()) : nullptr; }

std::optional<std::string> b64_member(const core::strict_json::Value& o, std::string_view name,
                                      std::string& error) {
  auto s = o.string_member(name);
  if (!s) {
    error = "JWK member \"" + std::string(name) + "\" is missing or not a string";
    return std::nullopt;
  }
  auto bytes = base64url_decode(*s);
  if (!bytes || bytes->empty()) {
    error = "JWK member \"" + std::string(name) + "\" is not valid base64url";
    return std::nullopt;
  }
  return bytes;
}

BnPtr bn_from(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

PkeyPtr from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) <= 0)
    return nullptr;
  PkeyPtr out = wrap(key);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, out.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) <= 0) return nullptr;
  return out;
}

std::optional<Jwk> read_rsa(const core::strict_json::Value& o, Jwk jwk, std::string& error) {
  auto n = b64_member(o, "n", error);
  auto e = n ? b64_member(o, "e", error) : std::nullopt;
  if (!n || !e) return std::nullopt;
  if (n->size() * 8 < 2048) {
    error = "RSA keys shorter than 2048 bits are not accepted";
    return std::nullopt;
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  BnPtr bn_n = bn_from(*n), bn_e = bn_from(*e), bn_d;
  int selection = EVP_PKEY_PUBLIC_KEY;
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  if (o.find("d") != nullptr) {
    auto d = b64_member(o, "d", error);
    if (!d) return std::nullopt;
    bn_d = bn_from(*d);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, bn_d.get());
    selection = EVP_PKEY_KEYPAIR;
  }
  jwk.key = from_params("RSA", bld.get(), selection);
  if (!jwk.key) {
    error = "OpenSSL rejected the RSA key";
    return std::nullopt;
  }
  return jwk;
}

std::optional<Jwk> read_ec(const core::strict_json::Value& o, Jwk jwk, std::string& error) {
  const std::size_t size = ec_field_bytes(jwk.curve);
  if (size == 0) {
    error = "unsupported EC curve (P-256, P-384, P-521)";
    return std::nullopt;
  }
  auto x = b64_member(o, "x", error);
  auto y = x ? b64_member(o, "y", error) : std::nullopt;
  if (!x || !y) return std::nullopt;
  if (x->size() != size || y->size() != size) {
    error = "EC coordinates have the wrong length for the curve";
    return std::nullopt;
  }
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, openssl_group(jwk.curve), 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  BnPtr bn_d;
  int selection = EVP_PKEY_PUBLIC_KEY;
  if (o.find("d") != nullptr) {
    auto d = b64_member(o, "d", error);
    if (!d) return std::nullopt;
    bn_d = bn_from(*d);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn_d.get());
    selection = EVP_PKEY_KEYPAIR;
  }
  jwk.key = from_params("EC", bld.get(), selection);
  if (!jwk.key) {
    error = "OpenSSL rejected the EC key (point not on the curve?)";
    return std::nullopt;
  }
  return jwk;
}

std::optional<Jwk> read_okp(const core::strict_json::Value& o, Jwk jwk, std::string& error) {
  int type = 0;
  std::size_t size = 0;
  if (jwk.curve == "Ed25519") {
    type = EVP_PKEY_ED25519;
    size = 32;
  } else if (jwk.curve == "Ed448") {
    type = EVP_PKEY_ED448;
    size = 57;
  } else {
    error = "unsupported OKP curve (Ed25519, Ed448)";
    return std::nullopt;
  }
  if (o.find("d") != nullptr) {
    auto d = b64_member(o, "d", error);
    if (!d) return std::nullopt;
    if (d->size() != size) {
      error = "OKP private key has the wrong length";
      return std::nullopt;
    }
    jwk.key = wrap(EVP_PKEY_new_raw_private_key(type, nullptr, reinterpret_cast<const unsigned char*>(d->data()), size));
  } else {
    auto x = b64_member(o, "x", error);
    if (!x) return std::nullopt;
    if (x->size() != size) {
      error = "OKP public key has the wrong length";
      return std::nullopt;
    }
    jwk.key = wrap(EVP_PKEY_new_raw_public_key(type, nullptr, reinterpret_cast<const unsigned char*>(x->data()), size));
  }
  if (!jwk.key) {
    error = "OpenSSL rejected the OKP key";
    return std::nullopt;
  }
  return jwk;
}

// JOSE R||S -> DER ECDSA-Sig-Value.
std::optional<std::string> raw_to_der(std::string_view raw, std::size_t field) {
  if (raw.size() != 2 * field) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(field), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + field), static_cast<int>(field), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> der_to_raw(std::string_view der, std::size_t field) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(2 * field, '\0');
  const bool ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(field)) > 0 &&
                  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data() + field), static_cast<int>(field)) > 0;
  ECDSA_SIG_free(sig);
  if (!ok) return std::nullopt;
  return out;
}

bool init_digest(EVP_MD_CTX* ctx, Algorithm alg, EVP_PKEY* key, bool signing) {
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = digest_of(alg);
  const int ok = signing ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, key)
                         : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key);
  if (ok != 1) return false;
  if (is_rsa(alg)) {
    if (is_pss_alg(alg)) {
      if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
        return false;
    } else if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return false;
    }
  }
  return true;
}

std::string hmac(Algorithm alg, const std::string& secret, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(digest_of(alg), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len) == nullptr)
    return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string b64_bn(const BIGNUM* bn, std::size_t size) {
  std::string out(size, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size));
  return base64url_encode(out);
}

}  // namespace

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (const auto& a : kAlgorithms)
    if (a.name == name) return a.alg;
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm alg) {
  for (const auto& a : kAlgorithms)
    if (a.alg == alg) return a.name;
  return "";
}

bool is_hmac(Algorithm alg) { return alg == Algorithm::HS256 || alg == Algorithm::HS384 || alg == Algorithm::HS512; }

bool Jwk::fits(Algorithm a) const {
  if (!alg.empty() && alg != algorithm_name(a)) return false;
  switch (type) {
    case KeyType::Oct:
      return is_hmac(a) && !secret.empty() &&
             secret.size() >= static_cast<std::size_t>(EVP_MD_get_size(digest_of(a)));
    case KeyType::Rsa: return key != nullptr && is_rsa(a);
    case KeyType::Ec: return key != nullptr && is_ec(a) && curve == curve_for(a);
    case KeyType::Okp: return key != nullptr && a == Algorithm::EdDSA;
  }
  return false;
}

std::optional<Jwk> parse_jwk(const core::strict_json::Value& o, std::string& error) {
  if (!o.is_object()) {
    error = "a JWK must be a JSON object";
    return std::nullopt;
  }
  Jwk jwk;
  const auto kty = o.string_member("kty");
  if (!kty) {
    error = "JWK without a \"kty\" string";
    return std::nullopt;
  }
  if (const core::strict_json::Value* kid = o.find("kid")) {
    if (!kid->is_string()) {
      error = "JWK \"kid\" must be a string";
      return std::nullopt;
    }
    jwk.kid = kid->as_string();
  }
  if (const core::strict_json::Value* use = o.find("use")) {
    if (!use->is_string() || use->as_string() != "sig") {
      error = "JWK \"use\" is not \"sig\"";
      return std::nullopt;
    }
  }
  if (const core::strict_json::Value* alg = o.find("alg")) {
    if (!alg->is_string() || !algorithm_from_name(alg->as_string())) {
      error = "JWK \"alg\" is not a supported signature algorithm";
      return std::nullopt;
    }
    jwk.alg = alg->as_string();
  }
  if (auto crv = o.string_member("crv")) jwk.curve = std::string(*crv);
  if (*kty == "RSA") {
    jwk.type = KeyType::Rsa;
    return read_rsa(o, std::move(jwk), error);
  }
  if (*kty == "EC") {
    jwk.type = KeyType::Ec;
    return read_ec(o, std::move(jwk), error);
  }
  if (*kty == "OKP") {
    jwk.type = KeyType::Okp;
    return read_okp(o, std::move(jwk), error);
  }
  if (*kty == "oct") {
    jwk.type = KeyType::Oct;
    auto k = b64_member(o, "k", error);
    if (!k) return std::nullopt;
    jwk.secret = std::move(*k);
    return jwk;
  }
  error = "unsupported JWK kty (RSA, EC, OKP, oct)";
  return std::nullopt;
}

std::optional<JwkSet> parse_jwk_set(std::string_view text, std::string& error) {
  auto doc = core::strict_json::parse(text, error, core::strict_json::ParseLimits{1 << 20, 16});
  if (!doc) {
    error = "JWKS is not valid JSON: " + error;
    return std::nullopt;
  }
  const core::strict_json::Value* keys = doc->find("keys");
  if (keys == nullptr || !keys->is_array()) {
    error = "JWKS has no \"keys\" array";
    return std::nullopt;
  }
  JwkSet set;
  std::string first_error;
  for (const auto& item : keys->items()) {
    std::string key_error;
    if (auto k = parse_jwk(item, key_error)) {
      set.keys.push_back(std::move(*k));
    } else if (first_error.empty()) {
      first_error = key_error;
    }
  }
  if (set.keys.empty()) {
    error = "JWKS holds no usable signature key" + (first_error.empty() ? std::string() : " (" + first_error + ")");
    return std::nullopt;
  }
  return set;
}

bool verify_signature(Algorithm alg, const Jwk& key, std::string_view input, std::string_view signature) {
  if (!key.fits(alg)) return false;
  if (is_hmac(alg)) {
    const std::string mac = hmac(alg, key.secret, input);
    return !mac.empty() && mac.size() == signature.size() &&
           CRYPTO_memcmp(mac.data(), signature.data(), mac.size()) == 0;
  }
  std::string der;
  if (is_ec(alg)) {
    auto d = raw_to_der(signature, ec_field_bytes(key.curve));
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !init_digest(ctx.get(), alg, key.key.get(), false)) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

std::optional<std::string> sign(Algorithm alg, const Jwk& key, std::string_view input) {
  if (!key.fits(alg)) return std::nullopt;
  if (is_hmac(alg)) return hmac(alg, key.secret, input);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || !init_digest(ctx.get(), alg, key.key.get(), true)) return std::nullopt;
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return std::nullopt;
  std::string out(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return std::nullopt;
  out.resize(len);
  if (is_ec(alg)) return der_to_raw(out, ec_field_bytes(key.curve));
  return out;
}

std::optional<Jwk> generate_es256_key(std::string kid) {
  Jwk jwk;
  jwk.kid = std::move(kid);
  jwk.type = KeyType::Ec;
  jwk.curve = "P-256";
  jwk.key = wrap(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!jwk.key) return std::nullopt;
  return jwk;
}

std::string public_jwk_json(const Jwk& key, Algorithm alg) {
  std::string out = "{";
  auto field = [&](std::string_view name, std::string_view value) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(name) + "\":\"" + std::string(value) + "\"";
  };
  if (key.type == KeyType::Ec) {
    BIGNUM* x = nullptr;
    BIGNUM* y = nullptr;
    EVP_PKEY_get_bn_param(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(key.key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    const std::size_t size = ec_field_bytes(key.curve);
    field("kty", "EC");
    field("crv", key.curve);
    field("x", x ? b64_bn(x, size) : "");
    field("y", y ? b64_bn(y, size) : "");
    BN_free(x);
    BN_free(y);
  } else if (key.type == KeyType::Okp) {
    unsigned char raw[64];
    std::size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(key.key.get(), raw, &len);
    field("kty", "OKP");
    field("crv", key.curve);
    field("x", base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len)));
  }
  field("kid", key.kid);
  field("alg", algorithm_name(alg));
  field("use", "sig");
  out += "}";
  return out;
}

}  // namespace tollway::auth
