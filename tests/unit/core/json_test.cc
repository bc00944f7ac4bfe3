#include "core/json.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace tollway::json {
namespace {

TEST(Json, EscapesEverythingThatWouldBreakJson) {
  EXPECT_EQ(quoted("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
  EXPECT_EQ(quoted("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(quoted("bad\xFFutf8\xC3"), "\"bad\xEF\xBF\xBDutf8\xEF\xBF\xBD\"");
  EXPECT_EQ(quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // UTF-16 surrogate encoded
}

// The escaper scans eight bytes at a time: every byte that needs attention is found at every offset of a long
// string, next to clean runs of every length, and bytes just inside the printable range are copied as they are.
TEST(Json, FindsEveryEscapeAtEveryOffset) {
  const std::pair<char, std::string_view> cases[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\x1f', "\\u001f"}, {'\x7f', "\\u007f"}, {'\0', "\\u0000"}, {'\x80', "\xEF\xBF\xBD"}};
  for (const auto& [byte, escaped] : cases) {
    for (std::size_t length = 1; length <= 40; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string in(length, ' ');
        for (std::size_t i = 0; i < length; ++i) in[i] = static_cast<char>(0x20 + (i * 7) % 95);  // printable, varied
        for (char& c : in)
          if (c == '"' || c == '\\') c = '~';
        in[at] = byte;
        const std::string expected = "\"" + in.substr(0, at) + std::string(escaped) + in.substr(at + 1) + "\"";
        ASSERT_EQ(json::quoted(in), expected) << "byte " << int(byte) << " at " << at << " of " << length;
      }
    }
  }
  std::string printable;
  for (int c = 0x20; c < 0x7f; ++c)
    if (c != '"' && c != '\\') printable.push_back(static_cast<char>(c));
  EXPECT_EQ(json::quoted(printable), "\"" + printable + "\"");
  EXPECT_EQ(json::quoted(std::string(13, 'a') + "\xC3\xA9" + std::string(9, 'b')),
            "\"" + std::string(13, 'a') + "\xC3\xA9" + std::string(9, 'b') + "\"");
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
