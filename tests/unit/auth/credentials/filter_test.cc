// CredentialFilter built from its own configuration (the providers, passthrough_caller_keys, whether `auth:` is
// on) and a ProviderKeyStore, no gateway: it puts the chosen provider's key in that provider's header and keeps
// the caller's credentials from the provider, passes a caller's own key through only where allowed, answers
// 503 no_provider_credential when no key is allowed or usable, and takes a key the provider refused out of
// rotation.
#include "auth/credentials/filter.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "../../filter_phase.h"

namespace tollway::auth {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

config::ProviderConfig provider(std::string name, config::Api api, std::string api_key = "") {
  config::ProviderConfig p;
  p.name = std::move(name);
  p.api = api;
  p.api_key = std::move(api_key);
  p.anthropic_version = "2023-06-01";
  return p;
}

CredentialFilter::Config providers_config() {
  CredentialFilter::Config c;
  c.providers = {provider("openai", config::Api::OpenAI, "sk-configured"),
                 provider("anthropic", config::Api::Anthropic, "ak-configured"),
                 provider("keyless", config::Api::OpenAI)};
  return c;
}

// A request the routing filter sent to `provider`, with the caller's headers `headers`.
struct Call {
  http::RequestHead head;
  pipeline::RequestCtx ctx;
  Call(std::string provider, std::vector<http::Header> headers) {
    head.headers = std::move(headers);
    ctx.head = &head;
    ctx.upstream.provider = std::move(provider);
    ctx.upstream.target = "/v1/chat/completions";
  }
};

std::optional<std::string> set_header(const pipeline::RequestCtx& ctx, std::string_view name) {
  for (const auto& [n, v] : ctx.upstream.set_headers)
    if (n == name) return v;
  return std::nullopt;
}

bool drops(const pipeline::RequestCtx& ctx, std::string_view name) {
  const auto& d = ctx.upstream.drop_headers;
  return std::find(d.begin(), d.end(), name) != d.end();
}

TEST(CredentialFilter, InjectsTheConfiguredKeyAndDropsTheCallers) {
  CredentialFilter filter(providers_config(), nullptr);
  Call call("openai", {{"Authorization", "Bearer caller-key"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(set_header(call.ctx, "authorization"), "Bearer sk-configured");
  for (std::string_view h : {"authorization", "x-api-key", "api-key", "x-goog-api-key", "x-tollway-provider-key"})
    EXPECT_TRUE(drops(call.ctx, h)) << h;
}

TEST(CredentialFilter, AddsAnthropicVersionOnlyWhenTheCallerSentNone) {
  CredentialFilter filter(providers_config(), nullptr);
  Call bare("anthropic", {}), versioned("anthropic", {{"anthropic-version", "2024-01-01"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(bare.ctx)), Verdict::Continue);
  EXPECT_EQ(set_header(bare.ctx, "x-api-key"), "ak-configured");
  EXPECT_EQ(set_header(bare.ctx, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(run_phase(filter.shape_upstream(versioned.ctx)), Verdict::Continue);
  EXPECT_EQ(set_header(versioned.ctx, "anthropic-version"), std::nullopt);
}

TEST(CredentialFilter, AnUnknownProviderIsLeftAlone) {
  CredentialFilter filter(providers_config(), nullptr);
  Call call("elsewhere", {{"Authorization", "Bearer caller-key"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_TRUE(call.ctx.upstream.set_headers.empty());
  EXPECT_TRUE(call.ctx.upstream.drop_headers.empty());
}

TEST(CredentialFilter, WithoutAuthTheCallersOwnKeyPassesToAKeylessProvider) {
  CredentialFilter filter(providers_config(), nullptr);
  Call call("keyless", {{"Authorization", "Bearer caller-key"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_TRUE(call.ctx.upstream.set_headers.empty());
  EXPECT_FALSE(drops(call.ctx, "authorization"));
  EXPECT_TRUE(drops(call.ctx, "x-tollway-provider-key"));
}

TEST(CredentialFilter, WithAuthTheCallersProviderKeyComesFromItsOwnHeader) {
  CredentialFilter::Config config = providers_config();
  config.auth_enabled = true;
  CredentialFilter filter(config, nullptr);
  Call own_key("keyless", {{"Authorization", "Bearer tw-virtual-key"}, {"X-Tollway-Provider-Key", "sk-caller"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(own_key.ctx)), Verdict::Continue);
  EXPECT_EQ(set_header(own_key.ctx, "authorization"), "Bearer sk-caller");
  EXPECT_TRUE(drops(own_key.ctx, "authorization"));  // the virtual key never reaches the provider
  EXPECT_TRUE(drops(own_key.ctx, "x-tollway-provider-key"));

  Call no_key("keyless", {{"Authorization", "Bearer tw-virtual-key"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(no_key.ctx)), Verdict::Continue);
  EXPECT_TRUE(no_key.ctx.upstream.set_headers.empty());
  EXPECT_TRUE(drops(no_key.ctx, "authorization"));
}

TEST(CredentialFilter, NoPassthroughMeansAKeylessProviderIsUnavailable) {
  CredentialFilter::Config config = providers_config();
  config.passthrough_caller_keys = false;
  CredentialFilter filter(config, nullptr);
  Call call("keyless", {{"Authorization", "Bearer caller-key"}});
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 503);
  EXPECT_EQ(call.ctx.outcome.error_code, "no_provider_credential");
  EXPECT_EQ(call.ctx.outcome.error.find("caller-key"), std::string::npos);
}

TEST(CredentialFilter, AStoreKeyWinsOverApiKeyAndIsEjectedWhenRefused) {
  ::setenv("TOLLWAY_CREDENTIAL_FILTER_TEST_KEY", "sk-from-store", 1);
  boost::asio::io_context control;
  ProviderKeyStore keys(control);
  config::CredentialsConfig credentials;
  credentials.providers.push_back({"openai", {{config::CredentialSourceConfig::Kind::Env,
                                               "TOLLWAY_CREDENTIAL_FILTER_TEST_KEY"}}});
  keys.configure(credentials, ".");
  CredentialFilter filter(providers_config(), &keys);

  Call first("openai", {});
  EXPECT_EQ(run_phase(filter.shape_upstream(first.ctx)), Verdict::Continue);
  EXPECT_EQ(set_header(first.ctx, "authorization"), "Bearer sk-from-store");
  ASSERT_TRUE(first.ctx.provider_key);
  http::ResponseHead refused;
  refused.status = 401;
  filter.on_response_head(first.ctx, refused);

  Call second("openai", {});
  EXPECT_EQ(run_phase(filter.shape_upstream(second.ctx)), Verdict::Replied);
  EXPECT_EQ(second.ctx.reply.status, 503);
  EXPECT_EQ(second.ctx.outcome.error_code, "no_provider_credential");
  EXPECT_EQ(second.ctx.outcome.error.find("sk-from-store"), std::string::npos);
}

}  // namespace
}  // namespace tollway::auth
