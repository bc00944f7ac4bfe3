#include "limits/redis/resp.h"

#include <gtest/gtest.h>

namespace tollway::limits::redis {
namespace {

// Feeds `input` in pieces of `step` bytes; returns the replies, and whether the parser failed.
std::vector<RespValue> parse_all(std::string_view input, std::size_t step, bool& failed, RespLimits limits = {}) {
  RespParser parser(limits);
  std::vector<RespValue> out;
  failed = false;
  for (std::size_t offset = 0; offset < input.size() && !failed; offset += step) {
    std::string_view piece = input.substr(offset, step);
    for (;;) {
      RespValue v;
      auto status = parser.parse(piece, v);
      if (status == RespParser::Status::Reply) {
        out.push_back(std::move(v));
        continue;
      }
      failed = status == RespParser::Status::Failed;
      break;
    }
  }
  return out;
}

RespValue integer(int64_t i) {
  RespValue v;
  v.type = RespType::Integer;
  v.integer = i;
  return v;
}

TEST(RespEncoder, CommandIsAnArrayOfBulkStrings) {
  std::string out;
  append_command(out, {"SET", "k", "a\r\nb", ""});
  EXPECT_EQ(out, "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
}

TEST(RespParser, EveryTypeAtEverySplit) {
  const std::string input =
      "+OK\r\n-NOSCRIPT No matching script\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n$0\r\n\r\n+x\r\n$3\r\nabc\r\n";
  bool failed = false;
  const auto whole = parse_all(input, input.size(), failed);
  ASSERT_FALSE(failed);
  ASSERT_EQ(whole.size(), 8u);
  EXPECT_EQ(whole[0].type, RespType::SimpleString);
  EXPECT_EQ(whole[0].text, "OK");
  EXPECT_TRUE(whole[1].is_error());
  EXPECT_EQ(whole[1].text, "NOSCRIPT No matching script");
  EXPECT_EQ(whole[2], integer(-42));
  EXPECT_EQ(whole[3].type, RespType::BulkString);
  EXPECT_EQ(whole[3].text, "he\r\nl");  // CRLF inside a bulk string is data
  EXPECT_EQ(whole[4].type, RespType::Null);
  EXPECT_EQ(whole[5].type, RespType::Null);
  EXPECT_EQ(whole[6].type, RespType::Array);
  EXPECT_TRUE(whole[6].elements.empty());
  ASSERT_EQ(whole[7].elements.size(), 3u);
  EXPECT_EQ(whole[7].elements[1].elements[1].text, "x");
  EXPECT_EQ(whole[7].elements[2].text, "abc");
  for (std::size_t step = 1; step < input.size(); ++step) {
    const auto split = parse_all(input, step, failed);
    EXPECT_FALSE(failed) << "step " << step;
    EXPECT_EQ(split, whole) << "step " << step;
  }
}

TEST(RespParser, NeedMoreKeepsTheRestForTheNextCall) {
  RespParser parser;
  std::string_view input = "+OK\r\n:7";
  RespValue v;
  ASSERT_EQ(parser.parse(input, v), RespParser::Status::Reply);
  EXPECT_EQ(input, ":7");
  EXPECT_EQ(parser.parse(input, v), RespParser::Status::NeedMore);
  EXPECT_TRUE(input.empty());
  std::string_view rest = "\r\n";
  ASSERT_EQ(parser.parse(rest, v), RespParser::Status::Reply);
  EXPECT_EQ(v, integer(7));
}

TEST(RespParser, RejectsWhatIsNotStrictRESP2) {
  const char* bad[] = {
      "+OK\n",            // bare LF
      "+O\rK\r\n",        // bare CR
      ":+1\r\n",          // plus sign
      ":01\r\n",          // leading zero
      ":-0\r\n",          // negative zero
      ":\r\n",            // empty integer
      ":12a\r\n",         // not a number
      ":99999999999999999999\r\n",  // overflow
      "$-2\r\n",          // negative length
      "$3\r\nabcd\r\n",   // payload longer than announced
      "$3\r\nab\r\n\r\n", // CR LF where payload should be ... then junk
      "*-2\r\n",
      "%1\r\n",           // RESP3 map
      "_\r\n",            // RESP3 null
      "\r\n",             // empty line
  };
  for (const char* input : bad) {
    bool failed = false;
    parse_all(input, 1000, failed);
    EXPECT_TRUE(failed) << input;
    parse_all(input, 1, failed);
    EXPECT_TRUE(failed) << input << " (byte by byte)";
  }
}

TEST(RespParser, LimitsAreErrorsNotAllocations) {
  RespLimits limits{10, 3, 16, 2};
  bool failed = false;
  parse_all("$11\r\n", 100, failed, limits);
  EXPECT_TRUE(failed);
  parse_all("*4\r\n", 100, failed, limits);
  EXPECT_TRUE(failed);
  parse_all("*1\r\n*1\r\n*1\r\n:1\r\n", 100, failed, limits);
  EXPECT_TRUE(failed);
  parse_all("+0123456789abcdefg\r\n", 100, failed, limits);
  EXPECT_TRUE(failed);
  parse_all("$10\r\n0123456789\r\n*3\r\n:1\r\n:2\r\n:3\r\n", 100, failed, limits);
  EXPECT_FALSE(failed);
}

TEST(RespParser, StaysFailed) {
  RespParser parser;
  std::string_view input = ":x\r\n";
  RespValue v;
  EXPECT_EQ(parser.parse(input, v), RespParser::Status::Failed);
  std::string_view good = "+OK\r\n";
  EXPECT_EQ(parser.parse(good, v), RespParser::Status::Failed);
  EXPECT_NE(parser.error().find("integer"), std::string::npos);
}

}  // namespace
}  // namespace tollway::limits::redis
