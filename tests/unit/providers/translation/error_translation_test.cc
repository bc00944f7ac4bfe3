// Provider error bodies in the caller's format, same status: Anthropic -> OpenAI, OpenAI -> Anthropic, and
// bodies that are neither.
#include "providers/translation/error_translation.h"

#include <gtest/gtest.h>

namespace tollway::providers::translation {
namespace {

TEST(ErrorTranslation, AnthropicErrorForAnOpenAICaller) {
  EXPECT_EQ(caller_error_body(config::Api::OpenAI, 429, "anthropic",
                              R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"r"})"),
            R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_error"}})");
  EXPECT_EQ(caller_error_body(config::Api::OpenAI, 529, "anthropic",
                              R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded_error"}})");
}

TEST(ErrorTranslation, OpenAIErrorForAnAnthropicCaller) {
  EXPECT_EQ(caller_error_body(config::Api::Anthropic, 429, "openai",
                              R"({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})"),
            R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limit reached"}})");
  EXPECT_EQ(caller_error_body(config::Api::Anthropic, 500, "openai",
                              R"({"error":{"message":"oops","type":"server_error","param":null,"code":null}})"),
            R"({"type":"error","error":{"type":"api_error","message":"oops"}})");
  EXPECT_EQ(caller_error_body(config::Api::Anthropic, 400, "vllm", R"({"error":"bad model"})"),
            R"({"type":"error","error":{"type":"invalid_request_error","message":"bad model"}})");
}

TEST(ErrorTranslation, UnrecognisedBodiesAreQuoted) {
  EXPECT_EQ(caller_error_body(config::Api::OpenAI, 502, "anthropic", "<html>Bad gateway</html>"),
            R"({"error":{"message":"Provider \"anthropic\" answered HTTP 502: <html>Bad gateway</html>","type":"server_error","param":null,"code":"upstream_error"}})");
  EXPECT_EQ(caller_error_body(config::Api::Anthropic, 404, "openai", ""),
            R"({"type":"error","error":{"type":"not_found_error","message":"Provider \"openai\" answered HTTP 404 without a body"}})");
  const ProviderError e = read_provider_error(R"({"error":{"type":"x"}})");
  EXPECT_FALSE(e.recognised);
}

}  // namespace
}  // namespace tollway::providers::translation
