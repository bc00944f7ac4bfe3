// TokenSigner: the gateway's own short-lived JWTs (token exchange). Holds an ES256 signing key generated in
// memory at start and rotated on a schedule; the previous key stays published (and accepted) for one more
// rotation period so tokens signed just before a rotation keep verifying. Publishes the public keys as a JWKS
// document. Private keys never leave process memory and are never logged or persisted (a restart invalidates
// issued tokens; agents exchange their bootstrap credential again).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "auth/jwt/jwk.h"
#include "auth/virtual_keys/key_store.h"
#include "config/auth_config.h"
#include "core/shared_cell.h"

namespace tollway::auth {

class TokenSigner {
 public:
  TokenSigner();
  // Control thread: new issuer/audience/ttl; keys are kept.
  void configure(const config::TokenExchangeConfig& config);
  // Control thread: a new current key; the current one becomes the previous one.
  void rotate();

  // Any thread: a signed token for the virtual key's identity; nullopt when signing fails.
  std::optional<std::string> issue(const VirtualKey& key, int64_t now) const;
  std::shared_ptr<const JwkSet> verification_keys() const;
  std::shared_ptr<const std::string> jwks_document() const;
  config::TokenExchangeConfig config() const;

 private:
  struct State {
    config::TokenExchangeConfig config;
    std::shared_ptr<const Jwk> current;
    std::shared_ptr<const Jwk> previous;
    std::shared_ptr<const JwkSet> verify;
    std::shared_ptr<const std::string> jwks;
  };
  void publish(config::TokenExchangeConfig config, std::shared_ptr<const Jwk> current,
               std::shared_ptr<const Jwk> previous);
  core::SharedCell<State> state_;
};

}  // namespace tollway::auth
