#include "config/loader.h"

#include <gtest/gtest.h>

#include "../config_text.h"

namespace tollway::config {
namespace {

using test_text::all_errors;
const auto parse = test_text::parse_without_env;

// A config with one provider `p` (whose block ends with `extra`) and one route of `route_api`.
std::string config_with(const std::string& api, const std::string& extra, const std::string& route_api = "") {
  return "version: 1\nproviders:\n  p:\n    api: " + api + "\n    base_url: https://example.test\n" + extra +
         "routes:\n  - prefix: /v1/\n    api: " + (route_api.empty() ? api : route_api) + "\n    provider: p\n";
}

TEST(AzureSection, DeploymentsForm) {
  auto r = parse(config_with("openai",
                             "    azure:\n      api_version: 2024-10-21\n      deployments:\n        gpt-4o: prod-4o\n"));
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& azure = r.config->providers[0].azure;
  ASSERT_TRUE(azure.has_value());
  EXPECT_EQ(azure->url_form, AzureConfig::UrlForm::Deployments);
  EXPECT_EQ(azure->api_version, "2024-10-21");
  EXPECT_EQ(azure->deployment_for("gpt-4o"), "prod-4o");
  EXPECT_EQ(azure->deployment_for("gpt-4o-mini"), "gpt-4o-mini");  // unmapped: the model's own name
  EXPECT_STREQ(genai_provider_name(Api::OpenAI, true), "azure.ai.openai");
}

TEST(AzureSection, V1FormNeedsNoApiVersion) {
  auto r = parse(config_with("openai", "    azure: {url_form: v1}\n"));
  ASSERT_TRUE(r.config) << all_errors(r);
  EXPECT_EQ(r.config->providers[0].azure->url_form, AzureConfig::UrlForm::V1);
  EXPECT_EQ(r.config->providers[0].azure->api_version, "");
}

TEST(AzureSection, ErrorsNameTheKeyPath) {
  struct Case {
    std::string extra, expected;
  };
  const Case cases[] = {
      {"    azure: {deployments: {gpt-4o: d}}\n", "providers.p.azure.api_version: required with the deployments URL form"},
      {"    azure: {api_version: 2024-10-21, deployments: [gpt-4o]}\n",
       "providers.p.azure.deployments: must map model names to deployment names"},
      {"    azure: {api_version: 2024-10-21, deployments: {gpt-4o: \"a b\"}}\n",
       "providers.p.azure.deployments.gpt-4o: \"a b\" is not a deployment name"},
      {"    azure: {api_version: \"2024 10\"}\n", "providers.p.azure.api_version: \"2024 10\" is not an api-version"},
      {"    azure: {api_version: 2024-10-21, url_form: v2}\n", "providers.p.azure.url_form: \"v2\" is not a URL form"},
      {"    azure: {api_version: 2024-10-21, region: x}\n", "providers.p.azure.region"},
      {"    azure: yes\n", "providers.p.azure: must be a mapping"},
  };
  for (const auto& c : cases) {
    auto r = parse(config_with("openai", c.extra));
    EXPECT_FALSE(r.config) << c.extra;
    EXPECT_NE(all_errors(r).find(c.expected), std::string::npos) << all_errors(r);
  }
}

TEST(AzureSection, OnlyForOpenAiProviders) {
  auto r = parse(config_with("anthropic", "    azure: {api_version: 2024-10-21}\n"));
  EXPECT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("providers.p.azure: only an api: openai provider can be Azure OpenAI"), std::string::npos)
      << all_errors(r);
}

TEST(GeminiConfig, ApiGeminiAndItsErrors) {
  auto ok = parse(config_with("gemini", ""));
  ASSERT_TRUE(ok.config) << all_errors(ok);
  EXPECT_EQ(ok.config->providers[0].api, Api::Gemini);
  EXPECT_EQ(ok.config->routes[0].api, Api::Gemini);
  EXPECT_STREQ(genai_provider_name(Api::Gemini, false), "gcp.gemini");

  auto unknown = parse(config_with("palm", ""));
  EXPECT_NE(all_errors(unknown).find("providers.p.api: \"palm\" is not an API (allowed: openai, anthropic, gemini)"),
            std::string::npos)
      << all_errors(unknown);
  auto mismatch = parse(config_with("gemini", "", "openai"));
  EXPECT_NE(all_errors(mismatch).find("routes[0].provider: provider \"p\" speaks the gemini API but this route's api is openai"),
            std::string::npos)
      << all_errors(mismatch);
  auto raw = parse("version: 1\nproviders:\n  p: {api: gemini, base_url: https://example.test}\n"
                   "routes:\n  - {prefix: /v1beta/, api: gemini, provider: p, body: raw}\n");
  EXPECT_NE(all_errors(raw).find("routes[0].body: a gemini route reads its model from the path"), std::string::npos)
      << all_errors(raw);
  auto fallback = parse("version: 1\nproviders:\n  g: {api: gemini, base_url: https://example.test}\n"
                        "  o: {api: openai, base_url: https://example.test}\n"
                        "routes:\n  - {prefix: /v1beta/, api: gemini, provider: g, fallback: [{provider: o}]}\n");
  EXPECT_NE(all_errors(fallback).find("routes[0].fallback[0].provider: provider \"o\" speaks the openai API but this "
                                      "route's api is gemini, and Gemini requests are never translated"),
            std::string::npos)
      << all_errors(fallback);
}

}  // namespace
}  // namespace tollway::config
