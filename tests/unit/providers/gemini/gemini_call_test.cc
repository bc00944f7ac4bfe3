#include "providers/gemini/gemini_call.h"

#include <gtest/gtest.h>

#include "providers/request_body/gemini_fields.h"

namespace tollway::providers::gemini {
namespace {

TEST(GeminiCall, ModelAndMethodFromThePath) {
  auto call = parse_call("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->model, "gemini-2.5-flash");
  EXPECT_EQ(call->method, "streamGenerateContent");
  EXPECT_TRUE(is_stream_method(call->method));
  EXPECT_TRUE(takes_model_request(call->method));
  EXPECT_FALSE(parse_call("/v1beta/models"));
  EXPECT_FALSE(parse_call("/v1beta/models/gemini-2.5-flash"));
  EXPECT_FALSE(parse_call("/v1beta/models/a/b:generateContent"));
  EXPECT_FALSE(is_model_name("gemini%2D2"));
  EXPECT_TRUE(is_model_name("gemini-2.0-flash-001"));
}

TEST(GeminiCall, RewriteTargetReplacesModelAndDropsKey) {
  EXPECT_EQ(rewrite_target("/v1beta/models/a:generateContent?key=SECRET&alt=sse", "b", true),
            "/v1beta/models/b:generateContent?alt=sse");
  EXPECT_EQ(rewrite_target("/v1beta/models/a:generateContent?alt=sse&key=SECRET", "", true),
            "/v1beta/models/a:generateContent?alt=sse");
  EXPECT_EQ(rewrite_target("/v1beta/models/a:generateContent?key=SECRET", "", true), "/v1beta/models/a:generateContent");
  EXPECT_EQ(rewrite_target("/v1beta/models/a:generateContent?keys=1&key=2", "", false),
            "/v1beta/models/a:generateContent?keys=1&key=2");
  EXPECT_EQ(rewrite_target("/v1beta/models/a:generateContent?keys=1&key=2", "", true),
            "/v1beta/models/a:generateContent?keys=1");
}

TEST(GeminiCall, MaxOutputTokens) {
  std::string error;
  EXPECT_EQ(max_output_tokens(R"({"contents":[],"generationConfig":{"temperature":1,"maxOutputTokens":64}})", error), 64u);
  EXPECT_EQ(error, "");
  EXPECT_FALSE(max_output_tokens(R"({"contents":[]})", error));
  EXPECT_EQ(error, "");
  EXPECT_FALSE(max_output_tokens(R"({"generationConfig":{"maxOutputTokens":"64"}})", error));
  EXPECT_NE(error.find("maxOutputTokens must be a non-negative integer"), std::string::npos);
}

TEST(GeminiCall, ErrorEnvelope) {
  EXPECT_EQ(error_body(429, "slow down"), R"({"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}})");
  EXPECT_EQ(error_body(403, "no"), R"({"error":{"code":403,"message":"no","status":"PERMISSION_DENIED"}})");
}

TEST(GeminiFields, PathModelIsTheRequestModel) {
  std::optional<RequestFields> fields;
  const std::string body = R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":9}})";
  std::string error;
  fields = read_request_fields(body, error);
  ASSERT_TRUE(fields);
  EXPECT_EQ(read_gemini_fields("/v1beta/models/gemini-2.5-pro:streamGenerateContent", body, fields), "");
  EXPECT_EQ(fields->model, "gemini-2.5-pro");
  EXPECT_TRUE(fields->model_in_path);
  EXPECT_TRUE(fields->stream);
  EXPECT_EQ(fields->max_output_tokens, 9u);
  std::string edited = body;
  set_model(edited, *fields, "other");
  EXPECT_EQ(edited, body);  // the body has no model to rewrite

  std::optional<RequestFields> none;
  EXPECT_EQ(read_gemini_fields("/v1beta/models/gemini-2.5-pro:countTokens", "", none), "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->model, "gemini-2.5-pro");

  const std::string named = R"({"model":"gemini-x","contents":[]})";
  auto conflicting = read_request_fields(named, error);
  EXPECT_NE(read_gemini_fields("/v1beta/models/gemini-y:generateContent", named, conflicting).find("the path names"),
            std::string::npos);
}

}  // namespace
}  // namespace tollway::providers::gemini
