#include "auth/credentials/key_headers.h"

#include "providers/gemini/gemini_call.h"

namespace tollway::auth {

void set_provider_key(const config::ProviderConfig& provider, std::string_view key, pipeline::UpstreamRequest& up) {
  if (provider.api == config::Api::Gemini) {
    up.set_headers.emplace_back("x-goog-api-key", std::string(key));
  } else if (provider.api == config::Api::Anthropic) {
    up.set_headers.emplace_back("x-api-key", std::string(key));
  } else if (provider.azure) {
    up.set_headers.emplace_back("api-key", std::string(key));
  } else {
    std::string value;  // built in place: one allocation
    value.reserve(7 + key.size());
    value.append("Bearer ").append(key);
    up.set_headers.emplace_back("authorization", std::move(value));
  }
}

void drop_caller_credentials(const config::ProviderConfig& provider, pipeline::UpstreamRequest& up) {
  up.drop_headers.insert(up.drop_headers.end(), {"authorization", "x-api-key", "api-key", "x-goog-api-key"});
  if (provider.api == config::Api::Gemini && up.target.find('?') != std::string::npos)
    up.target = providers::gemini::rewrite_target(up.target, "", true);
}

}  // namespace tollway::auth
