#include "providers/request_body/filter.h"

#include <gtest/gtest.h>

namespace tollway::providers {
namespace {

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

}  // namespace
}  // namespace tollway::providers
