// How a provider's key travels and how a caller's own credentials are kept from a provider: Authorization:
// Bearer (OpenAI), api-key (Azure OpenAI), x-api-key (Anthropic), x-goog-api-key (Gemini); the caller's
// Authorization, x-api-key, api-key and x-goog-api-key headers and Gemini's `key=` query parameter are removed.
// Edits only the upstream request; never logs a key.
#pragma once

#include <string_view>

#include "config/gateway_config.h"
#include "pipeline/request_ctx.h"

namespace tollway::auth {

void set_provider_key(const config::ProviderConfig& provider, std::string_view key, pipeline::UpstreamRequest& up);
void drop_caller_credentials(const config::ProviderConfig& provider, pipeline::UpstreamRequest& up);

}  // namespace tollway::auth
