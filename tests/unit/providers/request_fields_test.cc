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

}  // namespace
}  // namespace tollway::providers
