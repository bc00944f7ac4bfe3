// Typed configuration of caller authentication (`auth:`) and provider credentials (`credentials:`), as read by
// src/auth/config.cc and src/auth/credentials/config.cc. Plain values, validated as a whole with the rest of the config;
// they hold secrets (the admin token) only as values and are never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tollway::config {

// A caller's allowed routes / models / max_tokens cap (globs; empty list = any, 0 = no cap).
struct CallerPolicyConfig {
  std::vector<std::string> routes;
  std::vector<std::string> models;
  uint64_t max_tokens = 0;
};

struct JwtIssuerConfig {
  std::string issuer;                        // the exact "iss" value accepted
  std::vector<std::string> audiences;        // "aud" must name one of them; empty = not checked
  std::string jwks_file;                     // exactly one of jwks_file / jwks_url
  std::string jwks_url;
  std::chrono::milliseconds jwks_refresh{300'000};
  std::vector<std::string> algorithms;       // allowed algs; empty = any that fits the key
  std::vector<std::string> required_claims;
  std::string tenant_claim = "tenant";
  std::string agent_claim = "sub";
  std::string group_claim = "group";
  CallerPolicyConfig policy;                 // what callers of this issuer may do
};

// One `auth.spiffe.callers` entry: peers whose verified SPIFFE ID matches `id` (exact, or "*" path segments)
// are this caller.
struct SpiffeCallerConfig {
  std::string id;
  std::string tenant;
  std::string agent_group;
  std::string agent;          // "" = the last path segment of the peer's ID
  CallerPolicyConfig policy;  // what these callers may do
};

// `auth.spiffe`: callers identified by the SPIFFE ID of their verified client certificate.
struct SpiffeAuthConfig {
  std::vector<SpiffeCallerConfig> callers;  // the first that matches wins
  std::vector<std::string> deny;            // IDs or patterns refused 403, whatever credential they present
};

struct TokenExchangeConfig {
  bool enabled = true;
  std::string issuer = "tollway";
  std::string audience = "tollway";
  std::chrono::milliseconds ttl{600'000};            // lifetime of an issued token
  std::chrono::milliseconds rotate_every{86'400'000}; // signing key rotation
};

struct AuthConfig {
  bool enabled = false;                      // true when the config has an `auth:` section
  std::string admin_token;                   // Bearer token for the admin keys API; "" = API disabled
  std::string virtual_keys_store;            // SQLite file; relative to the config file's directory
  std::chrono::milliseconds clock_skew{60'000};
  uint64_t max_token_bytes = 8192;
  std::vector<JwtIssuerConfig> jwt_issuers;
  TokenExchangeConfig token_exchange;
  SpiffeAuthConfig spiffe;
};

struct CredentialSourceConfig {
  enum class Kind { Env, File, Vault };
  Kind kind = Kind::Env;
  std::string location;      // env: variable name; file: path; vault: secret path under the mount
  std::string vault_field = "api_key";
  unsigned weight = 1;
  std::string label() const;  // "env:NAME", "file:/path", "vault:path#field" (never the value)
};

struct VaultConfig {
  std::string address;       // http(s)://host:port
  std::string token;         // X-Vault-Token
  std::string mount = "secret";
  std::chrono::milliseconds refresh{60'000};
};

struct CredentialsConfig {
  VaultConfig vault;         // address "" = not configured
  std::vector<std::pair<std::string, std::vector<CredentialSourceConfig>>> providers;  // provider name -> sources
  std::chrono::milliseconds file_poll{500};
};

}  // namespace tollway::config
