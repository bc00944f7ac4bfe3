// GatewayAuth: the gateway's process-lifetime authentication state — the virtual key store (SQLite), the
// token-exchange signer and its rotation, the provider credential store, the JWKS sources of the configured
// issuers and the auth counters. Built on the control thread with the first config that needs it and
// reconfigured by every snapshot build; filters of every snapshot point into it. Background work (JWKS and
// Vault refresh, file watching, key rotation) runs on the control thread's io_context, never on workers.
#pragma once

#include <boost/asio.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/authz/filter.h"
#include "auth/caller/auth_counters.h"
#include "auth/caller/filter.h"
#include "auth/credentials/provider_keys.h"
#include "auth/token_exchange/token_signer.h"
#include "auth/virtual_keys/key_store.h"
#include "config/gateway_config.h"

namespace tollway::auth {

class GatewayAuth {
 public:
  explicit GatewayAuth(boost::asio::io_context& control);
  ~GatewayAuth();

  // Applies a validated config: opens the key store on first use (a changed store path needs a restart),
  // reconfigures token exchange, credentials and issuers. False + `error` when the store cannot be opened.
  bool configure(const config::GatewayConfig& config, std::string& error);

  // The issuers for a snapshot's CallerAuthFilter (JWKS sources are shared between snapshots).
  std::vector<JwtIssuer> issuers(const config::GatewayConfig& config);

  VirtualKeyStore* keys() { return keys_.get(); }
  TokenSigner& signer() { return signer_; }
  ProviderKeyStore& provider_keys() { return provider_keys_; }
  AuthCounters& counters() { return counters_; }
  AuthzDenials& authz_denials() { return authz_denials_; }
  const std::string& admin_token() const { return admin_token_; }

  void render_metrics(std::string& out) const;

 private:
  boost::asio::awaitable<void> rotate_signing_keys();

  boost::asio::io_context& control_;
  std::unique_ptr<VirtualKeyStore> keys_;
  std::string keys_path_;
  TokenSigner signer_;
  ProviderKeyStore provider_keys_;
  AuthCounters counters_;
  AuthzDenials authz_denials_;
  std::string admin_token_;
  std::map<std::string, std::shared_ptr<JwksSource>> jwks_;  // by issuer + location
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool rotation_started_ = false;
};

// The directory of a config file path ("" for a bare file name).
std::string config_directory(const std::string& config_path);

}  // namespace tollway::auth
