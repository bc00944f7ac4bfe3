#include "http/retry_after.h"

#include <gtest/gtest.h>

namespace tollway::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kNow = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, ParsesTheThreeForms) {  // RFC 9110 5.6.7 examples
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kNow);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kNow);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kNow);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 23:59:59 GMT"), 951868799);
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
}

TEST(HttpDate, RejectsMalformedDates) {
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date("Sun, 31 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Mon, 29 Feb 1900 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Xyz, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49 GMT"));
  EXPECT_FALSE(parse_http_date(""));
  EXPECT_FALSE(parse_retry_after("", kNow));
  EXPECT_EQ(parse_retry_after("120", kNow), seconds(120));
}

TEST(RetryAfter, ReadsSecondsAndDatesFromNow) {
  EXPECT_EQ(parse_retry_after(" 0 ", kNow), seconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", kNow), seconds(30));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", kNow), seconds(0));  // in the past
  EXPECT_EQ(parse_retry_after("99999999999999999999", kNow), seconds(1'000'000'000));
  EXPECT_FALSE(parse_retry_after("-5", kNow));
  EXPECT_FALSE(parse_retry_after("soon", kNow));
}

TEST(RetryAfterMs, ReadsOneToNineDigits) {
  EXPECT_EQ(parse_retry_after_ms("250"), milliseconds(250));
  EXPECT_EQ(parse_retry_after_ms("0"), milliseconds(0));
  EXPECT_EQ(parse_retry_after_ms("999999999"), milliseconds(999999999));
  EXPECT_FALSE(parse_retry_after_ms(""));
  EXPECT_FALSE(parse_retry_after_ms("1000000000"));
  EXPECT_FALSE(parse_retry_after_ms("2.5"));
  EXPECT_FALSE(parse_retry_after_ms(" 250"));
}

}  // namespace
}  // namespace tollway::http
