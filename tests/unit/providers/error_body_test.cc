#include "providers/error_body.h"

#include <gtest/gtest.h>

namespace tollway::providers {
namespace {

TEST(ErrorBody, OpenAiShape) {
  EXPECT_EQ(error_body(config::Api::OpenAI, 404, "Unknown route", "unknown_route"),
            R"({"error":{"message":"Unknown route","type":"invalid_request_error","param":null,"code":"unknown_route"}})");
  EXPECT_NE(error_body(config::Api::OpenAI, 502, "x", "c").find("\"type\":\"server_error\""), std::string::npos);
  EXPECT_NE(error_body(config::Api::OpenAI, 429, "x", "c").find("\"type\":\"rate_limit_error\""), std::string::npos);
}

TEST(ErrorBody, AnthropicShape) {
  EXPECT_EQ(error_body(config::Api::Anthropic, 413, "too \"big\"", "body_too_large"),
            R"({"type":"error","error":{"type":"request_too_large","message":"too \"big\""}})");
  EXPECT_NE(error_body(config::Api::Anthropic, 504, "x", "c").find("timeout_error"), std::string::npos);
  EXPECT_NE(error_body(config::Api::Anthropic, 502, "x", "c").find("api_error"), std::string::npos);
}

TEST(ErrorBody, GuessesApiFromPathAndHeaders) {
  EXPECT_EQ(guess_api("/v1/messages", false), config::Api::Anthropic);
  EXPECT_EQ(guess_api("/v1/messages/count_tokens", false), config::Api::Anthropic);
  EXPECT_EQ(guess_api("/v1/messagesX", false), config::Api::OpenAI);
  EXPECT_EQ(guess_api("/v1/models", true), config::Api::Anthropic);
  EXPECT_EQ(guess_api("/v1/chat/completions", false), config::Api::OpenAI);
}

}  // namespace
}  // namespace tollway::providers
