// CredentialFilter: shape_upstream, once ProviderRouteFilter's select_upstream chose the provider. Injects the provider credential for the chosen
// provider (a weighted key from the ProviderKeyStore when `credentials:` names the provider, else the provider's
// `api_key`) in the provider's header (auth/credentials/key_headers.h), removes the caller's Authorization /
// x-api-key / api-key / x-goog-api-key and Gemini `key=` parameter (always when auth is on, so a virtual key or
// JWT never reaches a provider), and adds Anthropic's `anthropic-version` when missing. A provider without a
// configured key gets the caller's own key only with `credentials.passthrough_caller_keys` (with auth on, from
// x-tollway-provider-key), otherwise 503 no_provider_credential. On a 401/403 from the provider it takes the key
// out of rotation. It never logs or echoes a key.
#pragma once

#include <vector>

#include "auth/credentials/provider_keys.h"
#include "config/gateway_config.h"
#include "pipeline/filter.h"

namespace tollway::auth {

namespace asio = boost::asio;

// The header a caller authenticated by `auth:` sends its own provider key in (pass-through); never forwarded.
inline constexpr std::string_view kCallerProviderKeyHeader = "x-tollway-provider-key";

class CredentialFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the configuration.
  struct Config {
    std::vector<config::ProviderConfig> providers;  // each one's api_key, API and anthropic_version
    bool passthrough_caller_keys = true;            // credentials.passthrough_caller_keys
    bool auth_enabled = false;  // `auth:` is on: the caller's credentials are the gateway's, never a provider's
  };

  CredentialFilter(Config config, ProviderKeyStore* keys) : config_(std::move(config)), keys_(keys) {}

  std::string_view name() const override { return "credential"; }
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  void on_response_head(pipeline::RequestCtx& ctx, const http::ResponseHead& head) override;

 private:
  Config config_;
  ProviderKeyStore* keys_;  // process-lifetime (gateway Services); null when no credentials are configured
};

}  // namespace tollway::auth
