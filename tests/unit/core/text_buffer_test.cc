#include "core/text_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace tollway {
namespace {

TEST(TextBuffer, GrowsKeepsContentAndReusesMemoryAfterClear) {
  TextBuffer b;
  EXPECT_TRUE(b.empty());
  std::string expected;
  for (int i = 0; i < 5000; ++i) {  // well past the first 4 KiB
    b.literal("ab");
    b.push_back('c');
    b.append("de");
    b.decimal(i);
    expected += "abcde" + std::to_string(i);
  }
  EXPECT_EQ(b.view(), expected);
  const char* storage = b.view().data();
  b.clear();
  b.literal("x");
  EXPECT_EQ(b.view(), "x");
  EXPECT_EQ(b.view().data(), storage) << "clear keeps the memory";
}

TEST(TextBuffer, JsonStringsAndIntegers) {
  TextBuffer b;
  b.quoted("a\"b\\\n\x01\xff");
  b.push_back(' ');
  b.escaped("q\"");
  b.push_back(' ');
  b.decimal(std::numeric_limits<int64_t>::min());
  b.push_back(' ');
  b.decimal(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(b.view(), "\"a\\\"b\\\\\\n\\u0001\xEF\xBF\xBD\" q\\\" -9223372036854775808 18446744073709551615");
}

TEST(TextBuffer, FixedPointDropsTrailingZerosAndIsExact) {
  const auto fixed = [](int64_t units, int decimals) {
    TextBuffer b;
    b.fixed_point(units, decimals);
    return std::string(b.view());
  };
  EXPECT_EQ(fixed(1234, 6), "0.001234");
  EXPECT_EQ(fixed(8, 6), "0.000008");
  EXPECT_EQ(fixed(250000, 3), "250");
  EXPECT_EQ(fixed(4250, 3), "4.25");
  EXPECT_EQ(fixed(1001, 3), "1.001");
  EXPECT_EQ(fixed(0, 6), "0");
  EXPECT_EQ(fixed(-1500, 3), "-1.5");
  EXPECT_EQ(fixed(-5, 3), "-0.005");
  EXPECT_EQ(fixed(42, 0), "42");
  EXPECT_EQ(fixed(std::numeric_limits<int64_t>::min(), 6), "-9223372036854.775808");
  EXPECT_EQ(fixed(std::numeric_limits<int64_t>::max(), 18), "9.223372036854775807");
}

}  // namespace
}  // namespace tollway
