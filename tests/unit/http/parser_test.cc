#include "http/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::http {
namespace {

struct RequestResult {
  ParseStatus status;
  RequestHead head;
  ParseError error;
};

RequestResult parse_request(std::string_view bytes, const ParseLimits& limits = {}) {
  RequestResult result;
  result.status = parse_request_head(bytes, limits, result.head, result.error);
  return result;
}

struct ResponseResult {
  ParseStatus status;
  ResponseHead head;
  ParseError error;
};

ResponseResult parse_response(std::string_view bytes, std::string_view method = "GET",
                              const ParseLimits& limits = {}) {
  ResponseResult result;
  result.status = parse_response_head(bytes, method, limits, result.head, result.error);
  return result;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// Every strict prefix of a complete head is Incomplete; the full head parses the same from any buffer length.
void expect_complete_at_every_split(std::string_view message) {
  const RequestResult full = parse_request(message);
  ASSERT_EQ(full.status, ParseStatus::Complete) << full.error.message;
  for (std::size_t cut = 0; cut < full.head.head_size; ++cut) {
    const RequestResult partial = parse_request(message.substr(0, cut));
    ASSERT_EQ(partial.status, ParseStatus::Incomplete) << "cut at " << cut << ": " << partial.error.message;
  }
  const RequestResult exact = parse_request(message.substr(0, full.head.head_size));
  ASSERT_EQ(exact.status, ParseStatus::Complete);
  EXPECT_EQ(exact.head.headers.size(), full.head.headers.size());
  EXPECT_EQ(exact.head.framing, full.head.framing);
}

TEST(ParseRequest, SimpleGet) {
  const std::string message =
      "GET /v1/models?limit=2 HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\n\r\n";
  const RequestResult r = parse_request(message);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.target, "/v1/models?limit=2");
  EXPECT_EQ(r.head.path(), "/v1/models");
  EXPECT_EQ(r.head.version_minor, 1);
  ASSERT_EQ(r.head.headers.size(), 2u);
  EXPECT_EQ(r.head.headers[0].name, "Host");
  EXPECT_EQ(r.head.headers[0].value, "api.example.com");
  EXPECT_EQ(r.head.framing, BodyFraming::None);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_FALSE(r.head.expect_continue);
  EXPECT_EQ(r.head.head_size, message.size());
  EXPECT_EQ(r.head.find("accept"), "*/*");
  EXPECT_FALSE(r.head.find("Content-Type").has_value());
  for (const Header& header : r.head.headers) {
    EXPECT_TRUE(inside(header.name, message));
    EXPECT_TRUE(inside(header.value, message));
  }
  EXPECT_TRUE(inside(r.head.method, message));
  EXPECT_TRUE(inside(r.head.target, message));
}

TEST(ParseRequest, ValueWhitespaceIsTrimmedAndInnerWhitespaceKept) {
  const RequestResult r =
      parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t one  two \t\r\nX-B:\r\nX-C:   \r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.find("x-a"), "one  two");
  EXPECT_EQ(r.head.find("x-b"), "");
  EXPECT_EQ(r.head.find("x-c"), "");
}

TEST(ParseRequest, ObsTextInValueIsAccepted) {
  const RequestResult r = parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-Name: J\xc3\xbcrgen\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.find("X-Name"), "J\xc3\xbcrgen");
}

// Values are scanned eight bytes at a time: every byte value at every position of a long value is still
// judged alone (control bytes other than HTAB and DEL rejected, VCHAR, SP, HTAB and obs-text kept).
TEST(ParseRequest, EveryByteAtEveryPositionOfALongValue) {
  for (std::size_t at = 0; at < 27; ++at) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string value(27, 'v');
      value[at] = static_cast<char>(byte);
      const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + value + "\r\n\r\n";
      const RequestResult r = parse_request(request);  // the head's views point into `request`
      const bool allowed = byte == '\t' || byte == ' ' || (byte > 0x20 && byte != 0x7f);
      if (byte == '\r' || byte == '\n') {
        EXPECT_EQ(r.status, ParseStatus::Error) << at << " " << byte;
      } else if (allowed) {
        ASSERT_EQ(r.status, ParseStatus::Complete) << at << " " << byte << ": " << r.error.message;
        std::string_view expected(value);
        while (!expected.empty() && (expected.front() == ' ' || expected.front() == '\t')) expected.remove_prefix(1);
        while (!expected.empty() && (expected.back() == ' ' || expected.back() == '\t')) expected.remove_suffix(1);
        EXPECT_EQ(r.head.find("x-long"), expected) << at << " " << byte;
      } else {
        ASSERT_EQ(r.status, ParseStatus::Error) << at << " " << byte;
        EXPECT_EQ(r.error.status, 400);
        EXPECT_EQ(r.error.message, "control character in header field value") << at << " " << byte;
      }
    }
  }
}

TEST(ParseRequest, EverySplitPointIsIncompleteUntilTheEnd) {
  expect_complete_at_every_split(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX: y\r\n\r\n{\"model\":1}");
  expect_complete_at_every_split("\r\n\r\nGET /%41b HTTP/1.0\r\n\r\n");
  expect_complete_at_every_split("OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
}

TEST(ParseRequest, Pipelining) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  const std::string stream = first + second + "\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestResult r = parse_request(stream);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.target, "/a");
  ASSERT_EQ(r.head.head_size, first.size());
  std::string_view rest = std::string_view(stream).substr(r.head.head_size);
  r = parse_request(rest);
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.target, "/b");
  EXPECT_EQ(r.head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.head.content_length, 3u);
  rest.remove_prefix(r.head.head_size + r.head.content_length);
  r = parse_request(rest);  // a stray CRLF between messages is skipped and counted
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.target, "/c");
  EXPECT_EQ(r.head.head_size, rest.size());
}

TEST(ParseRequest, KeepAliveRules) {
  EXPECT_TRUE(parse_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(
      parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  EXPECT_FALSE(
      parse_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").head.keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,keep-alive,\r\n\r\n").head.keep_alive);
}

TEST(ParseRequest, ExpectContinue) {
  const RequestResult r =
      parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_TRUE(r.head.expect_continue);
  const RequestResult old =
      parse_request("POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(old.status, ParseStatus::Complete);
  EXPECT_FALSE(old.head.expect_continue);  // ignored for HTTP/1.0 (RFC 9110 section 10.1.1)
  const RequestResult other = parse_request("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n");
  ASSERT_EQ(other.status, ParseStatus::Error);
  EXPECT_EQ(other.error.status, 417);
}

TEST(ParseRequest, Framing) {
  RequestResult r = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.head.content_length, 7u);

  r = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.content_length, 9223372036854775807ull);

  r = parse_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.framing, BodyFraming::Chunked);

  r = parse_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.framing, BodyFraming::Chunked);

  r = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.head.content_length, 0u);
}

TEST(ParseRequest, MethodsAreCaseSensitiveTokens) {
  RequestResult r = parse_request("get / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.method, "get");
  r = parse_request("FOO-BAR! / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.method, "FOO-BAR!");
}

TEST(ParseRequest, AsteriskFormOnlyForOptions) {
  RequestResult r = parse_request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.target, "*");
  EXPECT_EQ(r.head.path(), "*");
  r = parse_request("GET * HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 400);
}

TEST(ParseRequest, VersionsOtherThan10And11Get505) {
  for (const char* version : {"HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/3.1"}) {
    const RequestResult r = parse_request(std::string("GET / ") + version + "\r\nHost: a\r\n\r\n");
    ASSERT_EQ(r.status, ParseStatus::Error) << version;
    EXPECT_EQ(r.error.status, 505) << version;
  }
}

struct RejectCase {
  const char* description;
  std::string bytes;
  int status;
};

void PrintTo(const RejectCase& c, std::ostream* os) {
  *os << c.description;
}

class RejectRequest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectRequest, IsRejectedWithStatus) {
  const RejectCase& c = GetParam();
  const RequestResult r = parse_request(c.bytes);
  ASSERT_EQ(r.status, ParseStatus::Error) << c.description;
  EXPECT_EQ(r.error.status, c.status) << c.description << ": " << r.error.message;
  EXPECT_FALSE(r.error.message.empty());
}

const std::string kH = "Host: a\r\n";

INSTANTIATE_TEST_SUITE_P(
    Strictness, RejectRequest,
    ::testing::Values(
        RejectCase{"CL and TE",
                   "POST / HTTP/1.1\r\n" + kH + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                   400},
        RejectCase{"TE and CL",
                   "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                   400},
        RejectCase{"duplicate CL equal",
                   "POST / HTTP/1.1\r\n" + kH + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
        RejectCase{"duplicate CL differ",
                   "POST / HTTP/1.1\r\n" + kH + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n", 400},
        RejectCase{"CL list", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 5, 5\r\n\r\n", 400},
        RejectCase{"CL plus sign", "POST / HTTP/1.1\r\n" + kH + "Content-Length: +5\r\n\r\n", 400},
        RejectCase{"CL minus sign", "POST / HTTP/1.1\r\n" + kH + "Content-Length: -5\r\n\r\n", 400},
        RejectCase{"CL inner space", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 1 2\r\n\r\n", 400},
        RejectCase{"CL hex", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 0x10\r\n\r\n", 400},
        RejectCase{"CL empty", "POST / HTTP/1.1\r\n" + kH + "Content-Length:\r\n\r\n", 400},
        RejectCase{"CL 2^63", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 9223372036854775808\r\n\r\n",
                   400},
        RejectCase{"CL 2^64", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 18446744073709551616\r\n\r\n",
                   400},
        RejectCase{"TE not chunked last",
                   "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
        RejectCase{"TE gzip only", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: gzip\r\n\r\n", 400},
        RejectCase{"TE unknown", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: pigeons, chunked\r\n\r\n",
                   400},
        RejectCase{"TE identity", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: identity\r\n\r\n", 400},
        RejectCase{"TE chunked twice",
                   "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        RejectCase{
            "TE chunked twice lines",
            "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            400},
        RejectCase{"TE empty", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding:\r\n\r\n", 400},
        RejectCase{"TE empty element", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: , chunked\r\n\r\n",
                   400},
        RejectCase{"TE parameter", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked;q=1\r\n\r\n",
                   400},
        RejectCase{"TE chunkedchunked",
                   "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunkedchunked\r\n\r\n", 400},
        RejectCase{"TE vertical tab",
                   "POST / HTTP/1.1\r\n" + kH +
                       "Transfer-Encoding:\x0b"
                       "chunked\r\n\r\n",
                   400},
        RejectCase{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        RejectCase{"obs-fold", "GET / HTTP/1.1\r\n" + kH + "X: a\r\n b\r\n\r\n", 400},
        RejectCase{"obs-fold tab", "GET / HTTP/1.1\r\n" + kH + "X: a\r\n\tb\r\n\r\n", 400},
        RejectCase{"space before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
        RejectCase{"bare CR in value", "GET / HTTP/1.1\r\n" + kH + "X: a\rb\r\n\r\n", 400},
        RejectCase{"bare CR line end", "GET / HTTP/1.1\r\n" + kH + "X: a\r\r\n\r\n", 400},
        RejectCase{"bare CR request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
        RejectCase{"bare CR final", "GET / HTTP/1.1\r\n" + kH + "\rX\r\n", 400},
        RejectCase{"bare LF header", "GET / HTTP/1.1\r\n" + kH + "X: a\nY: b\r\n\r\n", 400},
        RejectCase{"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
        RejectCase{"bare LF final", "GET / HTTP/1.1\r\n" + kH + "\n", 400},
        RejectCase{"bare LF leading", "\nGET / HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"NUL in value", std::string("GET / HTTP/1.1\r\n") + kH + "X: a" + '\0' + "b\r\n\r\n", 400},
        RejectCase{"DEL in value", "GET / HTTP/1.1\r\n" + kH + "X: a\x7f\r\n\r\n", 400},
        RejectCase{"ESC in value", "GET / HTTP/1.1\r\n" + kH + "X: \x1b[31m\r\n\r\n", 400},
        RejectCase{"NUL in name", std::string("GET / HTTP/1.1\r\n") + kH + "X" + '\0' + "Y: b\r\n\r\n", 400},
        RejectCase{"space before colon", "GET / HTTP/1.1\r\n" + kH + "X : b\r\n\r\n", 400},
        RejectCase{"tab before colon", "GET / HTTP/1.1\r\n" + kH + "Transfer-Encoding\t: chunked\r\n\r\n",
                   400},
        RejectCase{"empty name", "GET / HTTP/1.1\r\n" + kH + ": b\r\n\r\n", 400},
        RejectCase{"no colon", "GET / HTTP/1.1\r\n" + kH + "Xyz\r\n\r\n", 400},
        RejectCase{"non-token name", "GET / HTTP/1.1\r\n" + kH + "X(y): b\r\n\r\n", 400},
        RejectCase{"non-token name slash", "GET / HTTP/1.1\r\n" + kH + "X/y: b\r\n\r\n", 400},
        RejectCase{"method non-token", "G(T / HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"method empty", " / HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"method tab", "GET\t/ HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"absolute-form", "GET http://a/ HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"authority-form", "CONNECT a:443 HTTP/1.1\r\n" + kH + "\r\n", 400},
        // CONNECT with an origin-form target on a reverse proxy's listener (found by fuzz_http_framing_nginx: nginx
        // refuses CONNECT, tollway framed it as an ordinary request)
        RejectCase{"CONNECT origin-form", "CONNECT /x HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target with fragment", "GET /a#b HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target non-ascii", "GET /\xc3\xa9 HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target CTL", "GET /a\x01 HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target bad percent", "GET /a%zz HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target short percent", "GET /a%4 HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target backslash", "GET /a\\b HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target quote", "GET /a\"b HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"target brace", "GET /a{b} HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"asterisk with suffix", "OPTIONS *a HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"two spaces after method", "GET  / HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"two spaces after target", "GET /  HTTP/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"trailing space", "GET / HTTP/1.1 \r\n" + kH + "\r\n", 400},
        RejectCase{"no version", "GET /\r\n" + kH + "\r\n", 400},
        RejectCase{"HTTP/0.9 style", "GET / \r\n\r\n", 400},
        RejectCase{"lowercase version", "GET / http/1.1\r\n" + kH + "\r\n", 400},
        RejectCase{"ICE protocol", "GET / ICE/1.0\r\n" + kH + "\r\n", 400},
        RejectCase{"version 1.10", "GET / HTTP/1.10\r\n" + kH + "\r\n", 400},
        RejectCase{"version 11", "GET / HTTP/11\r\n" + kH + "\r\n", 400},
        RejectCase{"missing host", "GET / HTTP/1.1\r\n\r\n", 400},
        RejectCase{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
        RejectCase{"two hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400},
        RejectCase{"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        RejectCase{"host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        RejectCase{"host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        RejectCase{"connection non-token", "GET / HTTP/1.1\r\n" + kH + "Connection: clo se\r\n\r\n", 400},
        RejectCase{"expect other", "POST / HTTP/1.1\r\n" + kH + "Expect: 100-continue, x\r\n\r\n", 417}));

TEST(ParseRequest, RequestLineLimitIsDetectedBeforeTheLineEnds) {
  ParseLimits limits;
  limits.max_request_line = 64;
  const std::string ok_line = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";  // exactly 64 bytes
  ASSERT_EQ(ok_line.size(), 64u);
  EXPECT_EQ(parse_request(ok_line + "\r\nHost: a\r\n\r\n", limits).status, ParseStatus::Complete);
  EXPECT_EQ(parse_request(ok_line, limits).status, ParseStatus::Incomplete);
  EXPECT_EQ(parse_request(ok_line + "\r", limits).status, ParseStatus::Incomplete);

  // 65 bytes of an unfinished line: rejected at once, without waiting for CRLF.
  const std::string long_line = "GET /" + std::string(60, 'a');
  ASSERT_EQ(long_line.size(), 65u);
  const RequestResult r = parse_request(long_line, limits);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 414);
  EXPECT_EQ(parse_request(long_line.substr(0, 64), limits).status, ParseStatus::Incomplete);

  const RequestResult default_limit = parse_request("GET /" + std::string(8 * 1024, 'a'));
  ASSERT_EQ(default_limit.status, ParseStatus::Error);
  EXPECT_EQ(default_limit.error.status, 414);
}

TEST(ParseRequest, HeaderBlockLimitIsDetectedBeforeTheHeadEnds) {
  ParseLimits limits;
  limits.max_header_block = 128;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(200, 'v');
  RequestResult r = parse_request(head, limits);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 431);
  EXPECT_EQ(parse_request(head.substr(0, 128), limits).status, ParseStatus::Incomplete);
  EXPECT_EQ(parse_request(head.substr(0, 129), limits).status, ParseStatus::Error);

  // A head of exactly max_header_block bytes is accepted.
  std::string exact = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  exact += std::string(128 - exact.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 128u);
  r = parse_request(exact + "body", limits);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.head_size, 128u);

  // Endless leading CRLFs count too.
  std::string crlfs;
  for (int i = 0; i < 100; ++i) crlfs += "\r\n";
  r = parse_request(crlfs, limits);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 431);

  // The default limit is 64 KiB.
  std::string big = "GET / HTTP/1.1\r\nHost: a\r\n";
  while (big.size() <= 64 * 1024) big += "X-Filler: " + std::string(100, 'f') + "\r\n";
  r = parse_request(big);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 431);
}

TEST(ParseRequest, TooManyHeaders) {
  ParseLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits).status,
            ParseStatus::Complete);
  const RequestResult r = parse_request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits);
  ASSERT_EQ(r.status, ParseStatus::Error);  // detected before the head is complete
  EXPECT_EQ(r.error.status, 431);
}

TEST(ParseRequest, HeadObjectIsReusableWithoutReallocation) {
  RequestHead head;
  ParseError error;
  ASSERT_EQ(parse_request_head("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n", {}, head, error),
            ParseStatus::Complete);
  const Header* storage = head.headers.data();
  ASSERT_EQ(parse_request_head("GET /x HTTP/1.0\r\n\r\n", {}, head, error), ParseStatus::Complete);
  EXPECT_EQ(head.headers.data(), storage);
  EXPECT_TRUE(head.headers.empty());
  EXPECT_EQ(head.version_minor, 0);
  EXPECT_FALSE(head.keep_alive);
}

// Feeds `message` one byte per "read", parsing only when head_parse_worthwhile says so, as a connection does.
struct TrickleResult {
  ParseStatus status = ParseStatus::Incomplete;
  std::size_t parses = 0;
  std::size_t fed = 0;  // bytes in the buffer when the verdict came
  ParseError error;
  RequestHead head;
};

TrickleResult trickle(std::string_view message, const ParseLimits& limits) {
  TrickleResult result;
  std::size_t previous_size = 0;
  for (std::size_t size = 1; size <= message.size(); ++size) {
    const std::string_view buffer = message.substr(0, size);
    if (!head_parse_worthwhile(buffer, previous_size, limits)) continue;
    ++result.parses;
    result.status = parse_request_head(buffer, limits, result.head, result.error);
    result.fed = size;
    if (result.status != ParseStatus::Incomplete) break;
    previous_size = size;
  }
  return result;
}

TEST(HeadParseWorthwhile, KeepsByteByByteFeedingLinear) {
  std::string message = "POST /v1/messages HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 50; ++i) message += "X-Filler-" + std::to_string(i) + ": some value\r\n";
  message += "Content-Length: 2\r\n\r\n{}";
  const TrickleResult r = trickle(message, {});
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.head_size, message.size() - 2);
  EXPECT_EQ(r.fed, message.size() - 2);  // completed on the byte that ended the head
  EXPECT_LE(r.parses, 2u);               // the first byte, then the end of the head
}

TEST(HeadParseWorthwhile, LimitsAreStillReportedEarly) {
  ParseLimits limits;
  limits.max_request_line = 100;
  limits.max_header_block = 1000;
  const TrickleResult long_line = trickle("GET /" + std::string(5000, 'a'), limits);
  ASSERT_EQ(long_line.status, ParseStatus::Error);
  EXPECT_EQ(long_line.error.status, 414);
  EXPECT_LE(long_line.fed, 102u + 1);

  const TrickleResult long_head =
      trickle("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(5000, 'v'), limits);
  ASSERT_EQ(long_head.status, ParseStatus::Error);
  EXPECT_EQ(long_head.error.status, 431);
  EXPECT_EQ(long_head.fed, 1001u);

  const TrickleResult bare_lf = trickle("GET / HTTP/1.1\nHost: a\n\n" + std::string(2000, 'x'), limits);
  ASSERT_EQ(bare_lf.status, ParseStatus::Error);  // never accepted; reported at the limit at the latest
}

TEST(ParseResponse, Basic) {
  const std::string message =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  const ResponseResult r = parse_response(message);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(r.head.reason, "OK");
  EXPECT_EQ(r.head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(r.head.content_length, 2u);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.head_size, message.size() - 2);
  EXPECT_EQ(r.head.find("content-type"), "application/json");
}

TEST(ParseResponse, FramingRules) {
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").head.framing,
            BodyFraming::Chunked);
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").head.framing,
            BodyFraming::UntilClose);
  ResponseResult r = parse_response("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(r.head.framing, BodyFraming::UntilClose);
  EXPECT_FALSE(r.head.keep_alive);
  EXPECT_EQ(parse_response("HTTP/1.1 204 No Content\r\n\r\n").head.framing, BodyFraming::None);
  EXPECT_EQ(parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").head.framing,
            BodyFraming::None);
  EXPECT_EQ(parse_response("HTTP/1.1 100 Continue\r\n\r\n").head.framing, BodyFraming::None);
  EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\n\r\n").head.framing, BodyFraming::None);
  r = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD");
  EXPECT_EQ(r.head.framing, BodyFraming::None);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD").head.framing,
            BodyFraming::None);
  r = parse_response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
  EXPECT_EQ(r.head.framing, BodyFraming::ContentLength);
  EXPECT_FALSE(r.head.keep_alive);
  EXPECT_EQ(
      parse_response("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n").head.keep_alive,
      false);
}

TEST(ParseResponse, StatusLineVariants) {
  ResponseResult r = parse_response("HTTP/1.1 404\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.status, 404);
  EXPECT_EQ(r.head.reason, "");
  r = parse_response("HTTP/1.1 599 Custom  Reason \xc3\xa9\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Complete);
  EXPECT_EQ(r.head.reason, "Custom  Reason \xc3\xa9");
}

TEST(ParseResponse, RejectsWith502) {
  for (const std::string& bytes : {
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: pigeons\r\n\r\n"),
           std::string("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
           std::string("HTTP/1.1 099 Low\r\n\r\n"),
           std::string("HTTP/1.1 600 High\r\n\r\n"),
           std::string("HTTP/1.1 20 Short\r\n\r\n"),
           std::string("HTTP/1.1 2000 Long\r\n\r\n"),
           std::string("HTTP/1.1  200 OK\r\n\r\n"),
           std::string("HTTP/2.0 200 OK\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\nX: y\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"),
           std::string("HTTP/1.1 200 O\x01K\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX : y\r\n\r\n"),
           std::string("HTTP/1.1 204 No Content\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
       }) {
    const ResponseResult r = parse_response(bytes);
    ASSERT_EQ(r.status, ParseStatus::Error) << bytes;
    EXPECT_EQ(r.error.status, 502) << bytes;
    EXPECT_FALSE(r.error.message.empty());
  }
}

TEST(ParseResponse, IncompleteAtEverySplit) {
  const std::string message = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n";
  for (std::size_t cut = 0; cut < message.size(); ++cut) {
    ASSERT_EQ(parse_response(message.substr(0, cut)).status, ParseStatus::Incomplete) << cut;
  }
  EXPECT_EQ(parse_response(message).status, ParseStatus::Complete);
}

TEST(Message, Iequals) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{"));  // only letters fold
  EXPECT_FALSE(iequals("@", "`"));
  // Eight bytes at a time from length 8 on, with an overlapping last word: every position and every byte pair.
  for (std::size_t size : {8u, 9u, 15u, 16u, 17u, 23u}) {
    for (std::size_t at = 0; at < size; ++at) {
      for (int x = 0; x < 256; ++x) {
        for (int y : {x, x ^ 0x20, x ^ 0x80, x + 1}) {
          std::string a(size, 'k'), b(size, 'K');
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y & 0xff);
          const auto lower = [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
          EXPECT_EQ(iequals(a, b), lower(x) == lower(y & 0xff)) << size << " " << at << " " << x << " " << y;
        }
      }
    }
  }
}

TEST(Message, HopByHop) {
  const std::vector<Header> headers = {
      {"Connection", "X-Custom, keep-alive"}, {"connection", "x-other"}, {"X-Custom", "1"}};
  for (const char* name :
       {"Connection", "keep-alive", "Proxy-Connection", "te", "Trailer", "Transfer-Encoding", "Upgrade",
        "Proxy-Authenticate", "proxy-authorization", "x-custom", "X-Other"}) {
    EXPECT_TRUE(HopByHop(headers).contains(name)) << name;
  }
  for (const char* name : {"Content-Length", "Host", "X-Custom2", "Authorization", ""}) {
    EXPECT_FALSE(HopByHop(headers).contains(name)) << name;
  }
  EXPECT_FALSE(HopByHop({}).contains("x-custom"));
  // Names of every length the fixed list has are still looked up in the Connection header.
  const std::vector<Header> listed = {
      {"Connection", "ab, X-Trace, X-Trace-Id, X-Custom-Header1, X-Custom-Header12, X-Custom-Header123, "
                     "X-Proxy-Auth-Info-1"}};
  for (const char* name : {"AB", "x-trace", "x-trace-id", "x-custom-header1", "x-custom-header12",
                           "x-custom-header123", "X-Proxy-Auth-Info-1"})
    EXPECT_TRUE(HopByHop(listed).contains(name)) << name;
  EXPECT_FALSE(HopByHop(listed).contains("AC"));
  // More listed names than are kept inline: every one of them still counts, across several Connection headers.
  const std::vector<Header> many = {{"Connection", "n1, n2, n3 ,n4, n5"}, {"Content-Type", "text/plain"},
                                    {"CONNECTION", "n6,,n7, n8, n9, n10"}};
  const HopByHop many_listed(many);
  for (const char* name : {"n1", "N5", "n6", "n9", "N10", "keep-alive"}) EXPECT_TRUE(many_listed.contains(name)) << name;
  for (const char* name : {"n11", "Content-Type", "n"}) EXPECT_FALSE(many_listed.contains(name)) << name;
}

}  // namespace
}  // namespace tollway::http

namespace tollway::http {
namespace {

ParseLimits proxy_limits() {
  ParseLimits limits;
  limits.proxy_forms = true;
  return limits;
}

TEST(ParseProxyRequest, AbsoluteFormSplitsAuthorityAndPath) {
  const std::string message = "POST http://agent-b:8000/v1/tasks?x=1 HTTP/1.1\r\nHost: agent-b:8000\r\n"
                              "Content-Length: 2\r\n\r\n{}";
  const RequestResult r = parse_request(message, proxy_limits());
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.authority, "agent-b:8000");
  EXPECT_EQ(r.head.target, "/v1/tasks?x=1");
  EXPECT_EQ(r.head.path(), "/v1/tasks");
  EXPECT_TRUE(inside(r.head.target, message));
}

TEST(ParseProxyRequest, AbsoluteFormWithoutPathIsTheRoot) {
  const RequestResult r = parse_request("GET HTTP://agent-b HTTP/1.1\r\nHost: agent-b\r\n\r\n", proxy_limits());
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.authority, "agent-b");
  EXPECT_EQ(r.head.target, "/");
}

TEST(ParseProxyRequest, OriginFormStillAccepted) {
  const RequestResult r = parse_request("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", proxy_limits());
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_TRUE(r.head.authority.empty());
  EXPECT_EQ(r.head.target, "/v1/models");
}

TEST(ParseProxyRequest, ConnectTakesAuthorityForm) {
  const RequestResult r =
      parse_request("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n", proxy_limits());
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.error.message;
  EXPECT_EQ(r.head.authority, "api.openai.com:443");
  EXPECT_EQ(r.head.target, "api.openai.com:443");
}

TEST(ParseProxyRequest, EveryPrefixOfAnAbsoluteFormHeadIsIncomplete) {
  const std::string message = "GET http://agent-b/x HTTP/1.1\r\nHost: agent-b\r\n\r\n";
  const auto limits = proxy_limits();
  const RequestResult full = parse_request(message, limits);
  ASSERT_EQ(full.status, ParseStatus::Complete) << full.error.message;
  for (std::size_t cut = 0; cut < full.head.head_size; ++cut)
    ASSERT_EQ(parse_request(message.substr(0, cut), limits).status, ParseStatus::Incomplete) << cut;
}

TEST(ParseProxyRequest, RefusesAmbiguousTargets) {
  const auto limits = proxy_limits();
  for (const auto& [message, why] : std::vector<std::pair<std::string, std::string>>{
           {"GET http://agent-b/x HTTP/1.1\r\nHost: agent-c\r\n\r\n", "Host header disagrees"},
           {"GET http://user@agent-b/x HTTP/1.1\r\nHost: agent-b\r\n\r\n", "userinfo"},
           {"GET https://agent-b/x HTTP/1.1\r\nHost: agent-b\r\n\r\n", "use CONNECT"},
           {"GET ftp://agent-b/x HTTP/1.1\r\nHost: agent-b\r\n\r\n", "absolute-form http://"},
           {"GET http://agent-b?x=1 HTTP/1.1\r\nHost: agent-b\r\n\r\n", "query but no path"},
           {"GET http:///x HTTP/1.1\r\nHost: agent-b\r\n\r\n", "no host"},
           {"GET http://agent-b:99999/ HTTP/1.1\r\nHost: agent-b\r\n\r\n", "port"},
           {"GET http://agent-b/a#f HTTP/1.1\r\nHost: agent-b\r\n\r\n", "fragment"},
           {"CONNECT agent-b HTTP/1.1\r\nHost: agent-b\r\n\r\n", "HOST:PORT"},
           {"CONNECT agent-b:443/x HTTP/1.1\r\nHost: agent-b:443\r\n\r\n", "HOST:PORT"},
           {"CONNECT /x HTTP/1.1\r\nHost: agent-b\r\n\r\n", "no host"},
       }) {
    const RequestResult r = parse_request(message, limits);
    ASSERT_EQ(r.status, ParseStatus::Error) << message;
    EXPECT_EQ(r.error.status, 400) << message;
    EXPECT_NE(r.error.message.find(why), std::string::npos) << message << " -> " << r.error.message;
  }
}

TEST(ParseProxyRequest, WithoutProxyFormsAbsoluteFormIsRefused) {
  const RequestResult r = parse_request("GET http://agent-b/x HTTP/1.1\r\nHost: agent-b\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_NE(r.error.message.find("origin-form"), std::string::npos);
  const RequestResult c = parse_request("CONNECT agent-b:443 HTTP/1.1\r\nHost: agent-b:443\r\n\r\n");
  ASSERT_EQ(c.status, ParseStatus::Error);
}

}  // namespace
}  // namespace tollway::http
