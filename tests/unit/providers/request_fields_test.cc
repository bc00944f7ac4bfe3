#include "providers/request_fields.h"

#include <gtest/gtest.h>

namespace tollway::providers {
namespace {

std::optional<RequestFields> read(std::string body, std::string& error) {
  body.reserve(body.size() + 64);
  return read_request_fields(body, error);
}

TEST(RequestFields, ReadsModel) {
  std::string error;
  auto f = read(R"({"messages":[{"role":"user","content":"x"}],"model":"gpt-4o","stream":true})", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(*f->model, "gpt-4o");
  auto g = read(R"({"input":"x"})", error);
  ASSERT_TRUE(g) << error;
  EXPECT_FALSE(g->model);
}

TEST(RequestFields, UnescapesTheModelName) {
  std::string error;
  auto f = read(R"({"model":"gpt\u002d4o"})", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(*f->model, "gpt-4o");
}

TEST(RequestFields, WorksWithoutPadding) {
  std::string error;
  std::string body = R"({"model":"m"})";
  body.shrink_to_fit();
  auto f = read_request_fields(body, error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(*f->model, "m");
}

TEST(RequestFields, RejectsAmbiguousOrMalformedBodies) {
  std::string error;
  EXPECT_FALSE(read(R"({"model":"a","model":"b"})", error));
  EXPECT_NE(error.find("more than one"), std::string::npos);
  EXPECT_FALSE(read(R"({"model":42})", error));
  EXPECT_FALSE(read(R"([1,2])", error));
  EXPECT_FALSE(read(R"({"model":"a"} trailing)", error));
  EXPECT_FALSE(read(R"({"model":"a",})", error));
  EXPECT_FALSE(read(R"({bad)", error));
  EXPECT_FALSE(read("", error));
}

TEST(RequestFields, ReadsTheInspectedFields) {
  std::string error;
  auto f = read(R"({"model":"gpt-4o","max_tokens":10,"max_completion_tokens":20,"stream":true,
    "tools":[{"type":"function"},{"type":"function"}],"user":"u-1","metadata":{"k":"v"}})", error);
  ASSERT_TRUE(f) << error;
  EXPECT_EQ(*f->max_output_tokens, 20u);  // max_completion_tokens wins over max_tokens
  EXPECT_TRUE(f->stream);
  EXPECT_EQ(f->tool_count, 2u);
  EXPECT_EQ(*f->user, "u-1");
  EXPECT_TRUE(f->has_metadata);
  auto a = read(R"({"model":"claude-x","max_tokens":64,"metadata":{"user_id":"agent-7"}})", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(*a->max_output_tokens, 64u);
  EXPECT_EQ(*a->user, "agent-7");
  EXPECT_FALSE(a->session_id);
  auto m = read(R"({"model":"gpt-4o","metadata":{"session_id":"s-42","n":"x"}})", error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(*m->session_id, "s-42");
  EXPECT_FALSE(m->user);
  auto wrong = read(R"({"model":"gpt-4o","metadata":{"session_id":7}})", error);
  ASSERT_TRUE(wrong) << error;  // not a string: not a session id (the provider judges the body)
  EXPECT_FALSE(wrong->session_id);
  auto r = read(R"({"model":"gpt-4o","max_output_tokens":null,"stream":null})", error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->max_output_tokens);
  EXPECT_FALSE(r->stream);
}

TEST(RequestFields, RejectsWrongTypesAndRepeats) {
  std::string error;
  EXPECT_FALSE(read(R"({"max_tokens":-1})", error));
  EXPECT_NE(error.find("max_tokens"), std::string::npos);
  EXPECT_FALSE(read(R"({"max_tokens":1.5})", error));
  EXPECT_FALSE(read(R"({"stream":"yes"})", error));
  EXPECT_FALSE(read(R"({"stream":true,"stream":false})", error));
  EXPECT_FALSE(read(R"({"stream_options":{"include_usage":true,"include_usage":false}})", error));
  EXPECT_FALSE(read(R"({"stream_options":{"include_usage":1}})", error));
  EXPECT_FALSE(read(R"({"tools":{}})", error));
}

// The fields an edit leaves must be the fields of the edited body: a later edit relies on them.
void expect_fields_describe(const std::string& body, const RequestFields& edited) {
  std::string copy = body;
  copy.reserve(copy.size() + 64);
  std::string error;
  auto fresh = read_request_fields(copy, error);
  ASSERT_TRUE(fresh) << error << ": " << body;
  EXPECT_EQ(edited.model, fresh->model) << body;
  EXPECT_EQ(edited.model_token.offset, fresh->model_token.offset) << body;
  EXPECT_EQ(edited.model_token.size, fresh->model_token.size) << body;
  EXPECT_EQ(edited.stream_options, fresh->stream_options) << body;
  EXPECT_EQ(edited.stream_options_token.offset, fresh->stream_options_token.offset) << body;
  EXPECT_EQ(edited.include_usage, fresh->include_usage) << body;
  EXPECT_EQ(edited.include_usage_token.offset, fresh->include_usage_token.offset) << body;
  EXPECT_EQ(edited.include_usage_token.size, fresh->include_usage_token.size) << body;
  EXPECT_EQ(edited.after_object_open, fresh->after_object_open) << body;
}

std::string include_usage(std::string body) {
  body.reserve(body.size() + 64);
  std::string error;
  auto f = read_request_fields(body, error);
  EXPECT_TRUE(f) << error;
  set_include_usage(body, *f);
  expect_fields_describe(body, *f);
  return body;
}

TEST(RequestFields, IncludeUsageIsAddedWithEveryOtherByteUnchanged) {
  EXPECT_EQ(include_usage(R"({"model":"m","stream":true})"),
            R"({"stream_options":{"include_usage":true},"model":"m","stream":true})");
  EXPECT_EQ(include_usage(R"({"stream":true, "stream_options": null })"),
            R"({"stream":true, "stream_options": {"include_usage":true} })");
  EXPECT_EQ(include_usage(R"({"stream":true,"stream_options":{ }})"),
            R"({"stream":true,"stream_options":{"include_usage":true }})");
  EXPECT_EQ(include_usage(R"({"stream":true,"stream_options":{"include_obfuscation":false}})"),
            R"({"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}})");
  EXPECT_EQ(include_usage(R"({"stream":true,"stream_options":{"include_usage": false }})"),
            R"({"stream":true,"stream_options":{"include_usage": true }})");
  // Each result is itself valid and says include_usage: true.
  std::string error;
  std::string out = include_usage(R"({"stream":true,"stream_options":{"include_obfuscation":false}})");
  auto again = read_request_fields(out, error);
  ASSERT_TRUE(again) << error;
  EXPECT_TRUE(*again->include_usage);
}

TEST(RequestFields, ModelIsReplacedInPlace) {
  std::string body = R"({"messages":[],"model" : "gpt-4o" ,"x":1})";
  body.reserve(body.size() + 64);
  std::string error;
  auto f = read_request_fields(body, error);
  ASSERT_TRUE(f) << error;
  set_model(body, *f, "gpt-4o-mini\"");
  EXPECT_EQ(body, R"({"messages":[],"model" : "gpt-4o-mini\"" ,"x":1})");
  expect_fields_describe(body, *f);
}

TEST(RequestFields, EditsInAnyOrderKeepTheFieldsTrue) {
  // The model before stream_options, and after it: each edit moves the other's position.
  for (std::string body : {std::string(R"({"model":"a","stream":true,"stream_options":{"include_usage":false}})"),
                           std::string(R"({"stream":true,"stream_options":null,"model":"a"})"),
                           std::string(R"({"stream":true, "model" : "a"})")}) {
    body.reserve(body.size() + 64);
    std::string error;
    auto f = read_request_fields(body, error);
    ASSERT_TRUE(f) << error;
    set_model(body, *f, "a-much-longer-model-name");
    set_include_usage(body, *f);
    expect_fields_describe(body, *f);
    set_model(body, *f, "b");
    expect_fields_describe(body, *f);
    EXPECT_EQ(f->model, "b");
    EXPECT_TRUE(*f->include_usage);
  }
}

TEST(RequestFields, SetModelLeavesABodyWithoutAModelAlone) {
  std::string body = R"({"input":"x"})";
  body.reserve(body.size() + 64);
  std::string error;
  auto f = read_request_fields(body, error);
  ASSERT_TRUE(f) << error;
  set_model(body, *f, "m");
  EXPECT_EQ(body, R"({"input":"x"})");
  EXPECT_FALSE(f->model);
}

}  // namespace
}  // namespace tollway::providers
