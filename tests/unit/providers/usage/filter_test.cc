// UsageFilter built from its own configuration (prices and the log flag), no gateway: it asks an OpenAI chat
// stream for its usage only when the caller did not, reads the usage of JSON and SSE answers (removing the
// usage chunk it asked for, nothing else), prices it, estimates it when none came, ignores non-2xx answers,
// and logs one line per proxied call only when told to.
#include "providers/usage/filter.h"
#include "providers/translation/translation_state.h"

#include <gtest/gtest.h>

#include <string>

#include "../../filter_phase.h"
#include "core/log.h"

namespace tollway::providers {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

UsageFilter::Config priced_config() {
  UsageFilter::Config c;
  c.pricing.models.push_back({"gpt-4o*", {2'500'000, 10'000'000, 1'250'000, 0}, 0});
  c.pricing.default_price = {1'000'000, 2'000'000, 0, 0};
  return c;
}

// A call to an OpenAI provider whose body is `body`, as the earlier phases leave it.
struct Call {
  http::UpstreamEndpoint endpoint;
  pipeline::RequestCtx ctx;

  explicit Call(std::string body, std::string target = "/v1/chat/completions") {
    ctx.body = std::move(body);
    std::string error;
    ctx.body_fields = read_request_fields(ctx.body, error);
    EXPECT_TRUE(ctx.body_fields) << error;
    ctx.model = ctx.body_fields->model.value_or("");
    ctx.request.stream = ctx.body_fields->stream;
    ctx.upstream.endpoint = &endpoint;
    ctx.upstream.target = std::move(target);
  }
};

http::ResponseHead head(int status, std::string_view content_type) {
  http::ResponseHead h;
  h.status = status;
  h.headers.push_back({"Content-Type", content_type});
  return h;
}

// The bytes a transformer passes on when `in` arrives in one piece.
std::string relay(pipeline::ResponseBodyTransformer& t, std::string_view in) {
  std::string out;
  t.transform(in, false, out);
  t.transform({}, true, out);
  return out;
}

constexpr std::string_view kStreamBody = R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kContentEvent = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n";
constexpr std::string_view kUsageEvent =
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}\n\n";
constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";

TEST(UsageFilter, AsksAChatStreamForItsUsageWhenTheCallerDidNot) {
  UsageFilter filter(priced_config());
  Call call{std::string(kStreamBody)};
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_TRUE(call.ctx.request.include_usage_added);
  EXPECT_NE(call.ctx.body.find(R"("stream_options":{"include_usage":true})"), std::string::npos) << call.ctx.body;
  EXPECT_EQ(call.ctx.body_fields->include_usage, true);
}

TEST(UsageFilter, LeavesTheBodyAloneWhenUsageIsAskedForOrCannotBe) {
  UsageFilter filter(priced_config());
  const std::string asked =
      R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]})";
  const std::string not_streamed = R"({"model":"gpt-4o","messages":[]})";
  Call already{asked}, unary{not_streamed}, responses{std::string(kStreamBody), "/v1/responses"},
      translated{std::string(kStreamBody)}, unrouted{std::string(kStreamBody)};
  translated.ctx.features.get<Translation>().active = true;  // the translation asks for usage itself
  unrouted.ctx.upstream.endpoint = nullptr;
  for (Call* call : {&already, &unary, &responses, &translated, &unrouted}) {
    const std::string before = call->ctx.body;
    EXPECT_EQ(run_phase(filter.shape_upstream(call->ctx)), Verdict::Continue);
    EXPECT_FALSE(call->ctx.request.include_usage_added) << before;
    EXPECT_EQ(call->ctx.body, before);
  }
}

TEST(UsageFilter, ReadsAndPricesTheUsageOfAJsonAnswerPassingItUnchanged) {
  UsageFilter filter(priced_config());
  Call call{R"({"model":"gpt-4o-mini","messages":[]})"};
  const std::string answer =
      R"({"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,)"
      R"("prompt_tokens_details":{"cached_tokens":200}}})";
  auto transformer = filter.response_body(call.ctx, head(200, "application/json"));
  ASSERT_TRUE(transformer);
  EXPECT_FALSE(transformer->changes_length());
  EXPECT_EQ(relay(*transformer, answer), answer);
  const pipeline::Usage& u = call.ctx.usage;
  EXPECT_TRUE(u.known);
  EXPECT_FALSE(u.estimated);
  EXPECT_EQ(u.input_tokens, 1000u);
  EXPECT_EQ(u.output_tokens, 500u);
  EXPECT_EQ(u.cached_input_tokens, 200u);
  // 800 uncached at $2.50/M + 200 cached at $1.25/M + 500 out at $10/M = 2000 + 250 + 5000 micro-dollars
  EXPECT_EQ(u.cost_micro_usd, 7250);
  EXPECT_FALSE(u.priced_at_default);
}

TEST(UsageFilter, AModelWithoutAPriceIsPricedAtTheDefaultAndSaysSo) {
  UsageFilter filter(priced_config());
  Call call{R"({"model":"claude-x","messages":[]})"};
  auto transformer = filter.response_body(call.ctx, head(200, "application/json"));
  relay(*transformer, R"({"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}})");
  EXPECT_TRUE(call.ctx.usage.known);
  EXPECT_EQ(call.ctx.usage.cost_micro_usd, 1000 + 1000);
  EXPECT_TRUE(call.ctx.usage.priced_at_default);
}

TEST(UsageFilter, EstimatesWhenTheAnswerReportsNoUsage) {
  UsageFilter filter(priced_config());
  Call call{R"({"model":"gpt-4o","messages":[{"role":"user","content":"a prompt of several words"}]})"};
  auto transformer = filter.response_body(call.ctx, head(200, "application/json"));
  relay(*transformer, R"({"choices":[]})");
  const pipeline::Usage& u = call.ctx.usage;
  EXPECT_FALSE(u.known);
  EXPECT_TRUE(u.estimated);
  EXPECT_GT(u.input_tokens, 0u);
  EXPECT_EQ(u.output_tokens, 0u);
  EXPECT_GT(u.cost_micro_usd, 0);
}

TEST(UsageFilter, RemovesOnlyTheUsageChunkItAskedFor) {
  UsageFilter filter(priced_config());
  Call call{std::string(kStreamBody)};
  run_phase(filter.shape_upstream(call.ctx));
  auto transformer = filter.response_body(call.ctx, head(200, "text/event-stream"));
  ASSERT_TRUE(transformer);
  EXPECT_TRUE(transformer->changes_length());
  const std::string stream = std::string(kContentEvent) + std::string(kUsageEvent) + std::string(kDoneEvent);
  EXPECT_EQ(relay(*transformer, stream), std::string(kContentEvent) + std::string(kDoneEvent));
  EXPECT_TRUE(call.ctx.usage.known);
  EXPECT_EQ(call.ctx.usage.input_tokens, 1000u);
  EXPECT_EQ(call.ctx.usage.output_tokens, 500u);
  EXPECT_EQ(call.ctx.usage.cost_micro_usd, 2500 + 5000);
}

TEST(UsageFilter, KeepsTheUsageChunkTheCallerAskedFor) {
  UsageFilter filter(priced_config());
  Call call{R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]})"};
  run_phase(filter.shape_upstream(call.ctx));
  auto transformer = filter.response_body(call.ctx, head(200, "text/event-stream; charset=utf-8"));
  EXPECT_FALSE(transformer->changes_length());
  const std::string stream = std::string(kContentEvent) + std::string(kUsageEvent) + std::string(kDoneEvent);
  EXPECT_EQ(relay(*transformer, stream), stream);
  EXPECT_TRUE(call.ctx.usage.known);
  EXPECT_EQ(call.ctx.usage.output_tokens, 500u);
}

TEST(UsageFilter, ACutStreamIsEstimatedFromWhatWasStreamed) {
  UsageFilter filter(priced_config());
  Call call{std::string(kStreamBody)};
  run_phase(filter.shape_upstream(call.ctx));
  auto transformer = filter.response_body(call.ctx, head(200, "text/event-stream"));
  std::string out;
  transformer->transform(kContentEvent, false, out);
  EXPECT_TRUE(transformer->wants_more_after_client_gone());  // the usage has not come yet
  transformer->transform({}, true, out);
  EXPECT_EQ(out, kContentEvent);
  EXPECT_FALSE(call.ctx.usage.known);
  EXPECT_TRUE(call.ctx.usage.estimated);
  EXPECT_EQ(call.ctx.usage.output_tokens, 1u);  // "Hello"
}

TEST(UsageFilter, ObservesNoErrorAnswerAndNoPathWithoutUsage) {
  UsageFilter filter(priced_config());
  Call chat{std::string(kStreamBody)}, models{std::string(kStreamBody), "/v1/models"};
  EXPECT_EQ(filter.response_body(chat.ctx, head(429, "application/json")), nullptr);
  EXPECT_EQ(filter.response_body(chat.ctx, head(500, "text/event-stream")), nullptr);
  EXPECT_EQ(filter.response_body(models.ctx, head(200, "application/json")), nullptr);
}

std::string usage_log_of(UsageFilter& filter, bool upstream_contacted) {
  Call call{R"({"model":"gpt-4o","messages":[]})"};
  call.ctx.request_id = "req-usage-1";
  call.ctx.outcome.upstream_contacted = upstream_contacted;
  ::testing::internal::CaptureStderr();
  filter.log(call.ctx);
  return ::testing::internal::GetCapturedStderr();
}

TEST(UsageFilter, LogsOneLinePerProxiedCallOnlyWhenConfiguredTo) {
  log::init(log::Level::Info);
  UsageFilter logging(priced_config());
  UsageFilter::Config quiet_config = priced_config();
  quiet_config.log_calls = false;
  UsageFilter quiet(quiet_config);
  EXPECT_NE(usage_log_of(logging, true).find(R"("request_id":"req-usage-1")"), std::string::npos);
  EXPECT_EQ(usage_log_of(logging, false), "");  // answered by the gateway: no call to log
  EXPECT_EQ(usage_log_of(quiet, true), "");
}

}  // namespace
}  // namespace tollway::providers
