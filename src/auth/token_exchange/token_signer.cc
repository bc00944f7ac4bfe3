#include "auth/token_exchange/token_signer.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "auth/jwt/base64url.h"
#include "auth/jwt/jws.h"
#include "core/json.h"

namespace tollway::auth {
namespace {

std::string random_id(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) std::abort();
  return base64url_encode(raw);
}

std::shared_ptr<const Jwk> new_key() {
  auto key = generate_es256_key(random_id(9));
  if (!key) std::abort();  // OpenSSL cannot generate an EC key: nothing sensible to continue with
  return std::make_shared<const Jwk>(std::move(*key));
}

}  // namespace

TokenSigner::TokenSigner() { publish({}, new_key(), nullptr); }

void TokenSigner::publish(config::TokenExchangeConfig config, std::shared_ptr<const Jwk> current,
                          std::shared_ptr<const Jwk> previous) {
  auto state = std::make_shared<State>();
  state->config = std::move(config);
  auto set = std::make_shared<JwkSet>();
  std::string doc = "{\"keys\":[";
  for (const auto& k : {current, previous}) {
    if (!k) continue;
    Jwk public_only = *k;  // the private key object also verifies; only its public part is published
    public_only.alg = "ES256";
    set->keys.push_back(std::move(public_only));
    if (doc.back() != '[') doc += ",";
    doc += public_jwk_json(*k, Algorithm::ES256);
  }
  doc += "]}\n";
  state->current = std::move(current);
  state->previous = std::move(previous);
  state->verify = std::move(set);
  state->jwks = std::make_shared<const std::string>(std::move(doc));
  state_.store(std::move(state));
}

void TokenSigner::configure(const config::TokenExchangeConfig& config) {
  const auto s = state_.load();
  publish(config, s->current, s->previous);
}

void TokenSigner::rotate() {
  const auto s = state_.load();
  publish(s->config, new_key(), s->current);
}

std::optional<std::string> TokenSigner::issue(const VirtualKey& key, int64_t now) const {
  const auto s = state_.load();  // a counted copy: signing is slow enough that a mutex does not matter
  const int64_t ttl = std::chrono::duration_cast<std::chrono::seconds>(s->config.ttl).count();
  tollway::json::ObjectWriter claims;
  claims.field("iss", s->config.issuer)
      .field("aud", s->config.audience)
      .field("sub", key.agent.empty() ? key.id : key.agent)
      .field("iat", now)
      .field("nbf", now)
      .field("exp", now + ttl)
      .field("jti", random_id(12))
      .field("tenant", key.tenant)
      .field("agent", key.agent)
      .field("group", key.agent_group)
      .field("tw_key", key.id);
  return sign_jwt(*s->current, Algorithm::ES256, std::move(claims).finish());
}

std::shared_ptr<const JwkSet> TokenSigner::verification_keys() const { return state_.load()->verify; }
std::shared_ptr<const std::string> TokenSigner::jwks_document() const { return state_.load()->jwks; }
config::TokenExchangeConfig TokenSigner::config() const { return state_.load()->config; }

}  // namespace tollway::auth
