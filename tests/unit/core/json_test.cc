#include "core/json.h"

#include <gtest/gtest.h>

namespace tollway::json {
namespace {

TEST(Json, EscapesEverythingThatWouldBreakJson) {
  EXPECT_EQ(quoted("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
  EXPECT_EQ(quoted("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(quoted("bad\xFFutf8\xC3"), "\"bad\xEF\xBF\xBDutf8\xEF\xBF\xBD\"");
  EXPECT_EQ(quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // UTF-16 surrogate encoded
}

TEST(Json, ObjectWriter) {
  ObjectWriter w;
  w.field("s", "x").field("n", int64_t{-3}).field("u", uint64_t{7}).field("b", true).null_field("z");
  w.raw_field("o", "{\"k\":1}");
  EXPECT_EQ(std::move(w).finish(), R"({"s":"x","n":-3,"u":7,"b":true,"z":null,"o":{"k":1}})");
  EXPECT_EQ(ObjectWriter().fields(), "");
}

}  // namespace
}  // namespace tollway::json
