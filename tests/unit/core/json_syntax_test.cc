#include "core/json_syntax.h"

#include <gtest/gtest.h>

#include <string>

namespace tollway::core {
namespace {

TEST(JsonSyntaxTest, WellFormedTextsHaveNoError) {
  for (const char* text : {"{}", "[]", " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]} ", "0", "\"\""})
    EXPECT_FALSE(find_json_syntax_error(text).has_value()) << text;
}

TEST(JsonSyntaxTest, NamesByteLineAndColumn) {
  const auto e = find_json_syntax_error("{\"model\": \"gpt\",\n \"messages\": [}");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->offset, 31u);
  EXPECT_EQ(e->line, 2u);
  EXPECT_EQ(e->column, 15u);
  EXPECT_EQ(e->to_string(), "byte 31 (line 2, column 15): expected a JSON value");
}

TEST(JsonSyntaxTest, ExplainsEachKindOfBreak) {
  const auto what = [](const std::string& text) {
    const auto e = find_json_syntax_error(text);
    return e ? e->what : std::string("none");
  };
  EXPECT_EQ(what("{\"a\" 1}"), "expected ':' after an object key");
  EXPECT_EQ(what("{a: 1}"), "expected a string as the object key");
  EXPECT_EQ(what("{\"a\": 1,}"), "expected a string as the object key");
  EXPECT_EQ(what("[1 2]"), "expected ',' or ']' in an array");
  EXPECT_EQ(what("{\"a\": 1"), "expected ',' or '}' in an object (the body ends here)");
  EXPECT_EQ(what("\"abc"), "unterminated string (the body ends here)");
  EXPECT_EQ(what("\"a\\x\""), "invalid escape in a string");
  EXPECT_EQ(what("\"\\u12g4\""), "expected four hex digits after \\u");
  EXPECT_EQ(what("\"a\tb\""), "control character inside a string (escape it)");
  EXPECT_EQ(what("012"), "a number must not have leading zeros");
  EXPECT_EQ(what("1."), "expected a digit (the body ends here)");
  EXPECT_EQ(what("tru"), "expected a JSON value");
  EXPECT_EQ(what("{} x"), "unexpected bytes after the JSON value");
  EXPECT_EQ(what(""), "expected a JSON value (the body ends here)");
}

TEST(JsonSyntaxTest, DeepNestingIsBoundedWithoutRecursion) {
  EXPECT_FALSE(find_json_syntax_error(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')).has_value());
  const auto e = find_json_syntax_error(std::string(kMaxJsonDepth + 1, '['));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->what, "nested too deeply");
  EXPECT_EQ(e->offset, kMaxJsonDepth);
}

}  // namespace
}  // namespace tollway::core
