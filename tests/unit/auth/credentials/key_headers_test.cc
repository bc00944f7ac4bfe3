#include "auth/credentials/key_headers.h"

#include <gtest/gtest.h>

namespace tollway::auth {
namespace {

config::ProviderConfig provider(config::Api api, bool azure = false) {
  config::ProviderConfig p;
  p.api = api;
  if (azure) p.azure = config::AzureConfig{};
  return p;
}

std::pair<std::string, std::string> only_header(const pipeline::UpstreamRequest& up) {
  EXPECT_EQ(up.set_headers.size(), 1u);
  return up.set_headers.empty() ? std::pair<std::string, std::string>{} : up.set_headers[0];
}

TEST(KeyHeaders, EachProviderItsOwnHeader) {
  const std::pair<config::ProviderConfig, std::pair<std::string, std::string>> cases[] = {
      {provider(config::Api::OpenAI), {"authorization", "Bearer k"}},
      {provider(config::Api::OpenAI, true), {"api-key", "k"}},
      {provider(config::Api::Anthropic), {"x-api-key", "k"}},
      {provider(config::Api::Gemini), {"x-goog-api-key", "k"}},
  };
  for (const auto& [p, expected] : cases) {
    pipeline::UpstreamRequest up;
    set_provider_key(p, "k", up);
    EXPECT_EQ(only_header(up), expected);
  }
}

TEST(KeyHeaders, CallerCredentialsDroppedGeminiKeyParameterToo) {
  pipeline::UpstreamRequest up;
  up.target = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=caller&alt=sse";
  drop_caller_credentials(provider(config::Api::Gemini), up);
  EXPECT_EQ(up.target, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(up.drop_headers, (std::vector<std::string>{"authorization", "x-api-key", "api-key", "x-goog-api-key"}));

  pipeline::UpstreamRequest openai;
  openai.target = "/v1/chat/completions?key=kept";  // not Gemini's parameter: the target is not touched
  drop_caller_credentials(provider(config::Api::OpenAI), openai);
  EXPECT_EQ(openai.target, "/v1/chat/completions?key=kept");
}

}  // namespace
}  // namespace tollway::auth
