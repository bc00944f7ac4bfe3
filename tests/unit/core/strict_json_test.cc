#include <gtest/gtest.h>

#include "core/strict_json.h"

namespace tollway::core::strict_json {
namespace {

bool ok(std::string_view text) {
  std::string error;
  return parse(text, error).has_value();
}

TEST(StrictJson, AcceptsPlainDocuments) {
  EXPECT_TRUE(ok(R"({"a":1,"b":[true,false,null],"c":{"d":"\u00e9\ud83d\ude00"},"e":-0.5e3})"));
  EXPECT_TRUE(ok(" [ ] "));
  std::string error;
  auto v = parse(R"({"n":1300819380,"s":"x"})", error);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->find("n")->is_integer());
  EXPECT_EQ(v->find("n")->as_int(), 1300819380);
  EXPECT_EQ(*v->string_member("s"), "x");
}

TEST(StrictJson, RejectsAmbiguity) {
  EXPECT_FALSE(ok(R"({"a":1,"a":2})"));
  EXPECT_FALSE(ok(R"({"x":{"a":1,"a":1}})"));
  EXPECT_FALSE(ok(R"({"a":1} x)"));
  EXPECT_FALSE(ok(R"({"a":01})"));
  EXPECT_FALSE(ok(R"({"a":"\ud800"})"));
  EXPECT_FALSE(ok("{\"a\":\"\xc0\xaf\"}"));  // overlong
  EXPECT_FALSE(ok("{\"a\":\"\x01\"}"));
  EXPECT_FALSE(ok(R"({"a":1,})"));
  EXPECT_FALSE(ok(R"([1,2)"));
  EXPECT_FALSE(ok(std::string(100, '[') + std::string(100, ']')));
}

TEST(StrictJson, RejectsDuplicateKeysInSmallAndLargeObjects) {
  // Below 16 members the keys are compared by a scan, from 16 on through a hash set: both find a repeat anywhere.
  const auto object = [](int members, int repeat_of) {
    std::string text = "{";
    for (int i = 0; i < members; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    if (repeat_of >= 0) text += "\"k" + std::to_string(repeat_of) + "\":0,";
    text.back() = '}';
    return text;
  };
  for (const int members : {1, 15, 16, 17, 40}) {
    EXPECT_TRUE(ok(object(members, -1))) << members;
    EXPECT_FALSE(ok(object(members, 0))) << members;
    EXPECT_FALSE(ok(object(members, members - 1))) << members;
  }
  EXPECT_TRUE(ok(object(100, -1)));
  EXPECT_FALSE(ok(object(100, 50)));
  EXPECT_FALSE(ok(object(100, 15)));
}

TEST(StrictJson, ErrorsNeverEchoInput) {
  std::string error;
  EXPECT_FALSE(parse(R"({"secret-value":tw-abc})", error));
  EXPECT_EQ(error.find("secret-value"), std::string::npos);
  EXPECT_EQ(error.find("tw-abc"), std::string::npos);
}

}  // namespace
}  // namespace tollway::core::strict_json
