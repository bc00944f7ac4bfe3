// libFuzzer target for the JWT verifier and the strict JSON reader: arbitrary bytes as a compact token (and as
// a JWKS document) must never crash, and a token must never verify against keys it was not signed with.
// Invariant checked: with an HMAC key the fuzzer cannot know, no input verifies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/jwt/jws.h"

using namespace tollway::auth;

namespace {

const JwkSet& keys() {
  static const JwkSet set = [] {
    JwkSet s;
    std::string error;
    auto v = tollway::core::strict_json::parse(
        R"({"kty":"oct","kid":"k1","k":"c2VjcmV0LXRoZS1mdXp6ZXItY2Fubm90LWtub3ctMDEyMzQ1Njc4OQ"})", error);
    s.keys.push_back(*parse_jwk(*v, error));
    auto ec = generate_es256_key("k2");
    s.keys.push_back(*ec);
    return s;
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  JwtError error = JwtError::None;
  ClaimRules rules;
  rules.require_exp = false;
  if (verify_jwt(input, keys(), rules, 1'700'000'000, error)) __builtin_trap();  // cannot forge a signature
  std::string json_error;
  (void)tollway::core::strict_json::parse(input, json_error);
  (void)parse_jwk_set(input, json_error);
  return 0;
}
