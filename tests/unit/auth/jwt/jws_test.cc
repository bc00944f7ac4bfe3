// Known-answer tests from RFC 7515 Appendix A and the RFC 7520 cookbook, plus the attacks the verifier must
// always refuse. Vector data (keys, compact serialisations) copied from RFC 7515 Appendix A.1-A.4 and RFC 7520
// §4.1-4.4 (as published in the ietf-jose/cookbook repository, jws/4_*.json).
#include <gtest/gtest.h>

#include "auth/jwt/base64url.h"
#include "auth/jwt/jws.h"

namespace tollway::auth {
namespace {

Jwk key_from(const std::string& json_text) {
  std::string error;
  auto v = core::strict_json::parse(json_text, error);
  EXPECT_TRUE(v) << error;
  auto k = parse_jwk(*v, error);
  EXPECT_TRUE(k) << error;
  return *k;
}

bool verifies(const std::string& compact, const Jwk& key) {
  JwtError e = JwtError::None;
  auto parsed = parse_compact_jws(compact, 8192, e);
  if (!parsed) return false;
  return verify_signature(parsed->alg, key, parsed->signing_input, parsed->signature);
}

// RFC 7515 A.1 (HS256), A.2 (RS256), A.3 (ES256), A.4 (ES512).
const std::string kA1Key = R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";
const std::string kA1 =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kA2Key =
    R"({"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"})";
const std::string kA2 =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t"
    "1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzD"
    "wusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const std::string kA3Key =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
const std::string kA3 =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const std::string kA4Key =
    R"({"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"})";
const std::string kA4 =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCP"
    "EX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

// RFC 7520 §4.1 (RS256), §4.2 (PS384), §4.3 (ES512), §4.4 (HS256).
const std::string kBilboRsa =
    R"({"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"})";
const std::string kHobbitPayload =
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5k"
    "IGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";
const std::string k41 =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + kHobbitPayload +
    ".MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78"
    "185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLu"
    "W3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDqu"
    "Dg";
const std::string k42 =
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + kHobbitPayload +
    ".cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcb"
    "UrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8Im"
    "UjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X7"
    "2Eaw";
const std::string kBilboEc =
    R"({"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"})";
const std::string k43 =
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + kHobbitPayload +
    ".AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxX"
    "Pn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";
const std::string kHmacKey =
    R"({"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})";
const std::string k44 =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9." + kHobbitPayload +
    ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

TEST(Rfc7515, AppendixAVectorsVerify) {
  EXPECT_TRUE(verifies(kA1, key_from(kA1Key)));
  EXPECT_TRUE(verifies(kA2, key_from(kA2Key)));
  EXPECT_TRUE(verifies(kA3, key_from(kA3Key)));
  EXPECT_TRUE(verifies(kA4, key_from(kA4Key)));
}

TEST(Rfc7515, AppendixA1SignatureIsReproduced) {
  const Jwk key = key_from(kA1Key);
  const auto dot = kA1.rfind('.');
  auto mac = sign(Algorithm::HS256, key, std::string_view(kA1).substr(0, dot));
  ASSERT_TRUE(mac);
  EXPECT_EQ(base64url_encode(*mac), kA1.substr(dot + 1));
}

TEST(Rfc7515, AppendixA5UnsecuredIsRejected) {
  JwtError e = JwtError::None;
  EXPECT_FALSE(parse_compact_jws(
      "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
      8192, e));
  EXPECT_EQ(e, JwtError::AlgNone);
}

TEST(Rfc7520, CookbookSignaturesVerify) {
  EXPECT_TRUE(verifies(k41, key_from(kBilboRsa)));
  EXPECT_TRUE(verifies(k42, key_from(kBilboRsa)));
  EXPECT_TRUE(verifies(k43, key_from(kBilboEc)));
  EXPECT_TRUE(verifies(k44, key_from(kHmacKey)));
}

TEST(Rfc7520, TamperedSignaturesFail) {
  for (auto [token, key] : {std::pair{k41, kBilboRsa}, std::pair{k42, kBilboRsa}, std::pair{k43, kBilboEc},
                            std::pair{k44, kHmacKey}}) {
    std::string bad = token;
    bad[bad.size() - 10] = bad[bad.size() - 10] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verifies(bad, key_from(key)));
    std::string other_payload = token;
    other_payload[token.find('.') + 3] ^= 1;  // still base64url, different bytes
    EXPECT_FALSE(verifies(other_payload, key_from(key)));
  }
}

TEST(Attacks, HmacWithAnRsaPublicKeyAsSecretIsRejected) {
  // The classic confusion: sign HS256 with the bytes of the RSA public key the verifier holds.
  const Jwk rsa = key_from(kBilboRsa);
  EXPECT_FALSE(rsa.fits(Algorithm::HS256));
  Jwk fake;
  fake.type = KeyType::Oct;
  fake.secret = std::string(64, 'n');
  const std::string input = base64url_encode(R"({"alg":"HS256","kid":"bilbo.baggins@hobbiton.example"})") + "." +
                            base64url_encode(R"({"iss":"x","exp":9999999999})");
  const std::string token = input + "." + base64url_encode(*sign(Algorithm::HS256, fake, input));
  JwkSet set;
  set.keys.push_back(rsa);
  JwtError e = JwtError::None;
  EXPECT_FALSE(verify_jwt(token, set, ClaimRules{}, 1000, e));
  EXPECT_EQ(e, JwtError::AlgKeyMismatch);
}

JwkSet hmac_set() {
  JwkSet set;
  set.keys.push_back(key_from(R"({"kty":"oct","kid":"k1","k":")" + base64url_encode(std::string(32, 's')) + "\"}"));
  return set;
}

std::string hs256(const std::string& header, const std::string& claims) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  return input + "." + base64url_encode(*sign(Algorithm::HS256, hmac_set().keys[0], input));
}

JwtError verify_error(const std::string& token, const ClaimRules& rules = {}, int64_t now = 1000) {
  JwtError e = JwtError::None;
  auto v = verify_jwt(token, hmac_set(), rules, now, e);
  return v ? JwtError::None : e;
}

TEST(Attacks, HeaderShapes) {
  const std::string ok_claims = R"({"iss":"i","exp":2000})";
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1"})", ok_claims)), JwtError::None);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"none","kid":"k1"})", ok_claims)), JwtError::AlgNone);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS257","kid":"k1"})", ok_claims)), JwtError::AlgUnsupported);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1","jku":"https://evil"})", ok_claims)), JwtError::ForbiddenHeader);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1","x5u":"https://evil"})", ok_claims)), JwtError::ForbiddenHeader);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1","jwk":{"kty":"oct","k":"AA"}})", ok_claims)),
            JwtError::ForbiddenHeader);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1","crit":["exp"],"exp":1})", ok_claims)), JwtError::UnknownCrit);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","alg":"HS256","kid":"k1"})", ok_claims)), JwtError::Malformed);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"k1"})", R"({"iss":"i","exp":2000,"exp":3000})")),
            JwtError::Malformed);
  EXPECT_EQ(verify_error(hs256(R"({"alg":"HS256","kid":"nope"})", ok_claims)), JwtError::UnknownKid);
}

TEST(Attacks, MalformedEncodings) {
  const std::string good = hs256(R"({"alg":"HS256","kid":"k1"})", R"({"exp":2000})");
  EXPECT_EQ(verify_error(good), JwtError::None);
  EXPECT_EQ(verify_error(good + "="), JwtError::Malformed);        // padding
  EXPECT_EQ(verify_error("+" + good.substr(1)), JwtError::Malformed);  // standard base64 alphabet
  EXPECT_EQ(verify_error(good + ".x"), JwtError::Malformed);       // four parts
  EXPECT_EQ(verify_error(good.substr(0, good.rfind('.'))), JwtError::Malformed);
  EXPECT_EQ(verify_error(good.substr(0, good.rfind('.') + 1)), JwtError::Malformed);  // empty signature
  ClaimRules small;
  small.max_token_bytes = 32;
  EXPECT_EQ(verify_error(good, small), JwtError::TooLarge);
  EXPECT_FALSE(base64url_decode("QR"));  // non-zero unused bits: "QQ" is the canonical encoding of "A"
  EXPECT_TRUE(base64url_decode("QQ"));
}

TEST(Claims, TimesIssuerAudienceRequired) {
  ClaimRules rules;
  rules.issuers = {"https://idp"};
  rules.audiences = {"tollway"};
  rules.leeway_seconds = 10;
  rules.required_claims = {"sub"};
  const std::string h = R"({"alg":"HS256","kid":"k1"})";
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":2000})"), rules), JwtError::None);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":["x","tollway"],"sub":"a","exp":2000})"), rules),
            JwtError::None);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":995})"), rules), JwtError::None);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":990})"), rules), JwtError::Expired);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":2000,"nbf":1011})"), rules),
            JwtError::NotYetValid);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":2000,"iat":1011})"), rules),
            JwtError::IssuedInFuture);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://evil","aud":"tollway","sub":"a","exp":2000})"), rules),
            JwtError::WrongIssuer);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"other","sub":"a","exp":2000})"), rules),
            JwtError::WrongAudience);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","exp":2000})"), rules), JwtError::MissingClaim);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a"})"), rules), JwtError::MissingClaim);
  EXPECT_EQ(verify_error(hs256(h, R"({"iss":"https://idp","aud":"tollway","sub":"a","exp":"2000"})"), rules),
            JwtError::BadClaim);
}

TEST(Signing, GeneratedEs256KeyRoundTrips) {
  auto key = generate_es256_key("kid-1");
  ASSERT_TRUE(key);
  auto token = sign_jwt(*key, Algorithm::ES256, R"({"iss":"tollway","exp":2000})");
  ASSERT_TRUE(token);
  JwkSet set;
  std::string error;
  auto published = core::strict_json::parse(public_jwk_json(*key, Algorithm::ES256), error);
  ASSERT_TRUE(published) << error;
  auto public_key = parse_jwk(*published, error);
  ASSERT_TRUE(public_key) << error;
  set.keys.push_back(*public_key);
  JwtError e = JwtError::None;
  EXPECT_TRUE(verify_jwt(*token, set, ClaimRules{}, 1000, e)) << jwt_error_code(e);
  EXPECT_FALSE(verify_jwt(*token, set, ClaimRules{}, 3000, e));
  EXPECT_EQ(e, JwtError::Expired);
}

}  // namespace
}  // namespace tollway::auth
