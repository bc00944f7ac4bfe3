// TranslationFilter, which reads no configuration (the chosen provider's API and the caller's are in the
// request context): a request of the provider's own API passes untouched; an OpenAI chat request to an
// Anthropic provider (and back) is rewritten, body, target and headers; what cannot be translated is refused
// with 400 and the reason's code; answers and held errors come back in the caller's format.
#include "providers/translation/filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "../../filter_phase.h"

namespace tollway::providers {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

// A `method target` request of the caller's API `caller` that ProviderRouteFilter sent to a provider of
// `provider` API under the base path /base.
struct Call {
  http::RequestHead head;
  http::UpstreamEndpoint endpoint;
  pipeline::RequestCtx ctx;

  Call(config::Api caller, config::Api provider, std::string_view target, std::string body,
       std::string_view method = "POST") {
    head.method = method;
    head.target = target;
    ctx.head = &head;
    ctx.api = caller;
    ctx.body = std::move(body);
    ctx.model = "m";
    ctx.upstream.endpoint = &endpoint;
    ctx.upstream.api = provider;
    ctx.upstream.provider = "p";
    ctx.upstream.target = "/base" + std::string(target);
  }
};

constexpr std::string_view kChatBody =
    R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})";

bool drops(const pipeline::RequestCtx& ctx, std::string_view name) {
  const auto& d = ctx.upstream.drop_headers;
  return std::find(d.begin(), d.end(), name) != d.end();
}

http::ResponseHead head(int status, std::string_view content_type) {
  http::ResponseHead h;
  h.status = status;
  h.headers.push_back({"content-type", content_type});
  return h;
}

std::string relay(pipeline::ResponseBodyTransformer& t, std::string_view in) {
  std::string out;
  t.transform(in, true, out);
  return out;
}

TEST(TranslationFilter, TheProvidersOwnApiPassesUntouched) {
  TranslationFilter filter;
  Call call(config::Api::OpenAI, config::Api::OpenAI, "/v1/chat/completions", std::string(kChatBody));
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.body, kChatBody);
  EXPECT_FALSE(translating(call.ctx));
  EXPECT_EQ(filter.response_body(call.ctx, head(200, "application/json")), nullptr);
}

TEST(TranslationFilter, AnOpenAIChatRequestIsRewrittenForAnAnthropicProvider) {
  TranslationFilter filter;
  Call call(config::Api::OpenAI, config::Api::Anthropic, "/v1/chat/completions", std::string(kChatBody));
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.body,
            R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stream":true})");
  EXPECT_EQ(call.ctx.upstream.target, "/base/v1/messages");
  EXPECT_TRUE(translating(call.ctx));
  EXPECT_TRUE(call.ctx.features.get<Translation>().include_usage);
  EXPECT_TRUE(call.ctx.request.stream);
  EXPECT_EQ(call.ctx.request.max_output_tokens, 4096u);
  EXPECT_TRUE(drops(call.ctx, "openai-organization"));
}

TEST(TranslationFilter, AnAnthropicRequestIsRewrittenForAnOpenAIProvider) {
  TranslationFilter filter;
  Call call(config::Api::Anthropic, config::Api::OpenAI, "/v1/messages",
            R"({"model":"m","max_tokens":100,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.target, "/base/v1/chat/completions");
  EXPECT_NE(call.ctx.body.find(R"("max_completion_tokens":100)"), std::string::npos) << call.ctx.body;
  EXPECT_TRUE(drops(call.ctx, "anthropic-version"));
  EXPECT_TRUE(translating(call.ctx));
}

TEST(TranslationFilter, OnlyTheChatEndpointIsTranslated) {
  TranslationFilter filter;
  Call embeddings(config::Api::OpenAI, config::Api::Anthropic, "/v1/embeddings", R"({"model":"m","input":"x"})");
  EXPECT_EQ(run_phase(filter.shape_upstream(embeddings.ctx)), Verdict::Replied);
  EXPECT_EQ(embeddings.ctx.reply.status, 400);
  EXPECT_EQ(embeddings.ctx.outcome.error_code, "translation_unsupported");
  Call get(config::Api::OpenAI, config::Api::Anthropic, "/v1/chat/completions", "", "GET");
  EXPECT_EQ(run_phase(filter.shape_upstream(get.ctx)), Verdict::Replied);
  EXPECT_EQ(get.ctx.outcome.error_code, "translation_unsupported");
  EXPECT_FALSE(translating(get.ctx));
}

TEST(TranslationFilter, ABodyItCannotExpressOrReadIsRefused) {
  TranslationFilter filter;
  Call unsupported(config::Api::OpenAI, config::Api::Anthropic, "/v1/chat/completions",
                   R"({"model":"m","n":2,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(run_phase(filter.shape_upstream(unsupported.ctx)), Verdict::Replied);
  EXPECT_EQ(unsupported.ctx.reply.status, 400);
  EXPECT_EQ(unsupported.ctx.outcome.error_code, "translation_unsupported");
  EXPECT_NE(unsupported.ctx.outcome.error.find("`n`"), std::string::npos) << unsupported.ctx.outcome.error;

  Call malformed(config::Api::OpenAI, config::Api::Anthropic, "/v1/chat/completions", R"({"model":"m"})");
  EXPECT_EQ(run_phase(filter.shape_upstream(malformed.ctx)), Verdict::Replied);
  EXPECT_EQ(malformed.ctx.outcome.error_code, "invalid_request");
  EXPECT_FALSE(translating(malformed.ctx));
}

TEST(TranslationFilter, AnswersComeBackInTheCallersApi) {
  TranslationFilter filter;
  Call call(config::Api::OpenAI, config::Api::Anthropic, "/v1/chat/completions",
            R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  run_phase(filter.shape_upstream(call.ctx));
  auto json = filter.response_body(call.ctx, head(200, "application/json"));
  ASSERT_TRUE(json);
  EXPECT_TRUE(json->changes_length());
  const std::string completion = relay(*json,
      R"({"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hi"}],)"
      R"("stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}})");
  EXPECT_NE(completion.find(R"("object":"chat.completion")"), std::string::npos) << completion;
  EXPECT_NE(completion.find(R"("content":"Hi")"), std::string::npos) << completion;

  auto unreadable = filter.response_body(call.ctx, head(200, "application/json"));
  EXPECT_NE(relay(*unreadable, "not a message").find(R"("code":"translation_failed")"), std::string::npos);

  auto error = filter.response_body(call.ctx, head(429, "application/json"));
  EXPECT_EQ(relay(*error, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})"),
            R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_error"}})");

  auto stream = filter.response_body(call.ctx, head(200, "text/event-stream"));
  ASSERT_TRUE(stream);
  EXPECT_TRUE(stream->changes_length());
}

TEST(TranslationFilter, AHeldErrorIsRewrittenOnlyForATranslatedCall) {
  TranslationFilter filter;
  Call translated(config::Api::Anthropic, config::Api::OpenAI, "/v1/messages",
                  R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]})");
  run_phase(filter.shape_upstream(translated.ctx));
  pipeline::Reply held{500, "application/json; charset=utf-8",
                       R"({"error":{"message":"oops","type":"server_error","param":null,"code":null}})", {}};
  filter.on_held_response(translated.ctx, held);
  EXPECT_EQ(held.body, R"({"type":"error","error":{"type":"api_error","message":"oops"}})");
  EXPECT_EQ(held.content_type, "");

  Call direct(config::Api::OpenAI, config::Api::OpenAI, "/v1/chat/completions", std::string(kChatBody));
  pipeline::Reply untouched{500, "text/plain", "oops", {}};
  filter.on_held_response(direct.ctx, untouched);
  EXPECT_EQ(untouched.body, "oops");
  EXPECT_EQ(untouched.content_type, "text/plain");
}

}  // namespace
}  // namespace tollway::providers
