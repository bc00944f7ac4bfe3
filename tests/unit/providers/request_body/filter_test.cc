// RequestBodyFilter, which reads no configuration (the matched route says json or raw): which Content-Types
// are JSON, and its authorize phase reading the body once into ctx.body_fields, or refusing a non-JSON
// Content-Type (415), a missing body where a model is needed and a body that is not one JSON object (400); on a
// raw route it reads nothing; on a Gemini route the model and stream flag come from the path.
#include "providers/request_body/filter.h"
#include "providers/routing/route_choice.h"

#include <gtest/gtest.h>

#include <string>

#include "../../filter_phase.h"

namespace tollway::providers {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

// A `method target` request with `body` and `headers` on a route of `api`.
struct Call {
  http::RequestHead head;
  config::RouteConfig route;
  pipeline::RequestCtx ctx;

  Call(std::string_view method, std::string_view target, std::string body, std::vector<http::Header> headers = {},
       config::Api api = config::Api::OpenAI) {
    head.method = method;
    head.target = target;
    head.headers = std::move(headers);
    route.path = "/v1/";
    route.is_prefix = true;
    route.api = api;
    ctx.head = &head;
    ctx.features.get<providers::RouteChoice>().route = &route;
    ctx.body = std::move(body);
  }
};

TEST(RequestBody, JsonMediaTypes) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON"));
  EXPECT_TRUE(is_json_media_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type(" application/json ;charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/vnd.api+json"));
  EXPECT_TRUE(is_json_media_type("application/merge-patch+JSON; charset=utf-8"));
}

TEST(RequestBody, OtherMediaTypesAreNotJson) {
  EXPECT_FALSE(is_json_media_type(""));
  EXPECT_FALSE(is_json_media_type("application/octet-stream"));
  EXPECT_FALSE(is_json_media_type("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("text/plain; a=application/json"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("application/+json"));
  EXPECT_FALSE(is_json_media_type("/+json"));
  EXPECT_FALSE(is_json_media_type("json"));
}

TEST(RequestBody, ReadsAJsonBodyOnceWhateverItsContentTypeOmits) {
  RequestBodyFilter filter;
  Call call("POST", "/v1/chat/completions", R"({"model":"gpt-4o","stream":true,"max_tokens":50})");
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  ASSERT_TRUE(call.ctx.body_fields);
  EXPECT_EQ(call.ctx.body_fields->model, "gpt-4o");
  EXPECT_TRUE(call.ctx.body_fields->stream);
  EXPECT_EQ(call.ctx.body_fields->max_output_tokens, 50u);
  EXPECT_EQ(call.ctx.reply.status, 0);
}

TEST(RequestBody, RefusesAContentTypeThatIsNotJson) {
  RequestBodyFilter filter;
  Call call("POST", "/v1/chat/completions", R"({"model":"gpt-4o"})",
            {{"Content-Type", "text/plain; charset=utf-8"}});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 415);
  EXPECT_EQ(call.ctx.outcome.error_code, "unsupported_media_type");
  EXPECT_NE(call.ctx.outcome.error.find("\"text/plain\""), std::string::npos) << call.ctx.outcome.error;
  EXPECT_FALSE(call.ctx.body_fields);
}

TEST(RequestBody, RefusesABodyThatIsNotOneJsonObjectSayingWhere) {
  RequestBodyFilter filter;
  for (const char* body : {R"({"model":"gpt-4o",})", "[1,2]", "{}{}", "\"text\""}) {
    Call call("POST", "/v1/chat/completions", body, {{"content-type", "application/json"}});
    EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Replied) << body;
    EXPECT_EQ(call.ctx.reply.status, 400);
    EXPECT_EQ(call.ctx.outcome.error_code, "invalid_json");
  }
  Call call("POST", "/v1/chat/completions", R"({"model":"gpt-4o",})");
  run_phase(filter.authorize(call.ctx));
  EXPECT_NE(call.ctx.outcome.error.find("line 1"), std::string::npos) << call.ctx.outcome.error;
}

TEST(RequestBody, AnEmptyBodyIsRefusedOnlyWhereTheRequestNamesAModel) {
  RequestBodyFilter filter;
  Call chat("POST", "/v1/chat/completions", "");
  EXPECT_EQ(run_phase(filter.authorize(chat.ctx)), Verdict::Replied);
  EXPECT_EQ(chat.ctx.reply.status, 400);
  EXPECT_EQ(chat.ctx.outcome.error_code, "invalid_json");
  Call messages("POST", "/v1/messages", "", {}, config::Api::Anthropic);
  EXPECT_EQ(run_phase(filter.authorize(messages.ctx)), Verdict::Replied);

  Call models("GET", "/v1/models", "");
  EXPECT_EQ(run_phase(filter.authorize(models.ctx)), Verdict::Continue);
  EXPECT_FALSE(models.ctx.body_fields);
  Call files("POST", "/v1/files", "");
  EXPECT_EQ(run_phase(filter.authorize(files.ctx)), Verdict::Continue);
}

TEST(RequestBody, ARawRouteIsNeverRead) {
  RequestBodyFilter filter;
  Call call("POST", "/v1/audio/transcriptions", "not json", {{"Content-Type", "multipart/form-data; boundary=x"}});
  call.route.body = config::RouteBody::Raw;
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  EXPECT_FALSE(call.ctx.body_fields);
  EXPECT_EQ(call.ctx.reply.status, 0);
}

TEST(RequestBody, AGeminiRouteTakesTheModelAndStreamFromThePath) {
  RequestBodyFilter filter;
  Call call("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            R"({"contents":[],"generationConfig":{"maxOutputTokens":64}})", {}, config::Api::Gemini);
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  ASSERT_TRUE(call.ctx.body_fields);
  EXPECT_EQ(call.ctx.body_fields->model, "gemini-2.0-flash");
  EXPECT_TRUE(call.ctx.body_fields->model_in_path);
  EXPECT_TRUE(call.ctx.body_fields->stream);
  EXPECT_EQ(call.ctx.body_fields->max_output_tokens, 64u);
}

}  // namespace
}  // namespace tollway::providers
