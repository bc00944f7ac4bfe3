#include "auth/credentials/filter.h"

#include "auth/credentials/key_headers.h"

namespace tollway::auth {

asio::awaitable<pipeline::Verdict> CredentialFilter::shape_upstream(pipeline::RequestCtx& ctx) {
  const config::ProviderConfig* provider = nullptr;
  for (const auto& p : config_.providers)
    if (p.name == ctx.upstream.provider) provider = &p;
  if (provider == nullptr) co_return pipeline::Verdict::Continue;
  auto& up = ctx.upstream;
  std::string_view key;
  if (keys_ != nullptr && keys_->manages(provider->name)) {
    ctx.provider_key = keys_->pick(provider->name);
    if (!ctx.provider_key) {
      co_return pipeline::reply_error(ctx, 503,
                                       "No usable credential for provider \"" + provider->name +
                                           "\" (every configured key is missing or was rejected by the provider).",
                                       "no_provider_credential");
    }
    key = ctx.provider_key->value;
  } else {
    key = provider->api_key;
  }
  up.drop_headers.emplace_back(kCallerProviderKeyHeader);
  if (key.empty()) {
    if (!config_.passthrough_caller_keys)
      co_return pipeline::reply_error(
          ctx, 503,
          "Provider \"" + provider->name + "\" has no configured credential and callers' own provider keys are "
          "not passed through (credentials.passthrough_caller_keys: false).",
          "no_provider_credential");
    // With auth on, the caller's Authorization / x-api-key hold its tollway credential; its provider key comes
    // in x-tollway-provider-key.
    if (config_.auth_enabled)
      if (auto own = ctx.head->find(kCallerProviderKeyHeader); own && !own->empty()) key = *own;
  }
  if (!key.empty() || config_.auth_enabled) drop_caller_credentials(*provider, up);
  if (!key.empty()) set_provider_key(*provider, key, up);
  if (provider->api == config::Api::Anthropic && !ctx.head->find("anthropic-version"))
    up.set_headers.emplace_back("anthropic-version", provider->anthropic_version);
  co_return pipeline::Verdict::Continue;
}

void CredentialFilter::on_response_head(pipeline::RequestCtx& ctx, const http::ResponseHead& head) {
  if ((head.status == 401 || head.status == 403) && ctx.provider_key && keys_ != nullptr)
    keys_->eject(*ctx.provider_key, head.status);
}

}  // namespace tollway::auth
