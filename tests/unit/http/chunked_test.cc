#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::http {
namespace {

struct Decoded {
  bool done = false;
  bool error = false;
  std::string body;
  std::size_t consumed = 0;  // bytes consumed before Done / Error / end of input
  std::string_view message;
};

// Feeds `pieces` one after another, as a connection would, and checks every Data view lies in its piece.
Decoded decode_pieces(const std::vector<std::string_view>& pieces,
                      ChunkedDecoder decoder = ChunkedDecoder()) {
  Decoded out;
  for (std::string_view piece : pieces) {
    while (true) {
      const ChunkedDecoder::Step step = decoder.next(piece);
      EXPECT_LE(step.consumed, piece.size());
      if (step.status == ChunkedDecoder::Status::Data) {
        EXPECT_GE(step.data.data(), piece.data());
        EXPECT_LE(step.data.data() + step.data.size(), piece.data() + step.consumed);
        out.body.append(step.data);
      }
      out.consumed += step.consumed;
      piece.remove_prefix(step.consumed);
      if (step.status == ChunkedDecoder::Status::Done) {
        EXPECT_TRUE(decoder.done());
        out.done = true;
        return out;
      }
      if (step.status == ChunkedDecoder::Status::Error) {
        out.error = true;
        out.message = decoder.error();
        EXPECT_FALSE(out.message.empty());
        return out;
      }
      if (step.status == ChunkedDecoder::Status::NeedMore) {
        EXPECT_TRUE(piece.empty());
        break;
      }
    }
  }
  return out;
}

Decoded decode(std::string_view input) {
  return decode_pieces({input});
}

// The result must not depend on how the input is split: try every split point and byte-by-byte feeding.
void expect_split_independent(std::string_view input) {
  const Decoded whole = decode(input);
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    const Decoded split = decode_pieces({input.substr(0, cut), input.substr(cut)});
    ASSERT_EQ(split.done, whole.done) << "cut " << cut;
    ASSERT_EQ(split.error, whole.error) << "cut " << cut;
    ASSERT_EQ(split.body, whole.body) << "cut " << cut;
    ASSERT_EQ(split.consumed, whole.consumed) << "cut " << cut;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  const Decoded single = decode_pieces(bytes);
  EXPECT_EQ(single.done, whole.done);
  EXPECT_EQ(single.error, whole.error);
  EXPECT_EQ(single.body, whole.body);
  EXPECT_EQ(single.consumed, whole.consumed);
}

TEST(ChunkedDecoder, DecodesChunksAndStopsAtMessageEnd) {
  const std::string input = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  const Decoded d = decode(input);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "hello world");
  EXPECT_EQ(d.consumed, input.find("GET"));
  expect_split_independent(input);
}

TEST(ChunkedDecoder, HexSizesAndLeadingZeros) {
  EXPECT_EQ(decode("a\r\n0123456789\r\n0\r\n\r\n").body, "0123456789");
  EXPECT_EQ(decode("A\r\n0123456789\r\n000\r\n\r\n").body, "0123456789");
  EXPECT_EQ(decode("0000000000000001\r\nx\r\n0\r\n\r\n").body, "x");  // 16 digits
  EXPECT_TRUE(decode("0000000000000000\r\n\r\n").done);
}

TEST(ChunkedDecoder, ExtensionsAreAcceptedAndIgnored) {
  for (const char* input : {
           "5;name\r\nhello\r\n0\r\n\r\n",
           "5;name=value\r\nhello\r\n0\r\n\r\n",
           "5 ; name = value ; other\r\nhello\r\n0\r\n\r\n",
           "5\t;\tname\t=\tvalue\r\nhello\r\n0;last\r\n\r\n",
           "5;ilovew3=\"I \\\"love\\\"; "
           "\\\\extensions\\\\\";somuchlove=\"aretheseparametersfor\";blah;foo=bar\r\n"
           "hello\r\n0\r\n\r\n",
           "5;q=\"\"\r\nhello\r\n0\r\n\r\n",
           "5;a=\"x\" ;b\r\nhello\r\n0\r\n\r\n",
       }) {
    const Decoded d = decode(input);
    EXPECT_TRUE(d.done) << input << ": " << d.message;
    EXPECT_EQ(d.body, "hello") << input;
    expect_split_independent(input);
  }
}

TEST(ChunkedDecoder, TrailersAreConsumedAndDiscarded) {
  const std::string input = "5\r\nhello\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\nX-Empty:\r\n\r\nNEXT";
  const Decoded d = decode(input);
  EXPECT_TRUE(d.done) << d.message;
  EXPECT_EQ(d.body, "hello");
  EXPECT_EQ(d.consumed, input.size() - 4);
  expect_split_independent(input);
}

TEST(ChunkedDecoder, LargeChunkIsHandedOutInPieces) {
  const std::string payload(100000, 'z');
  std::string input;
  append_chunk(input, payload);
  input += kLastChunk;
  ChunkedDecoder decoder;
  std::string_view rest = input;
  std::size_t data_steps = 0;
  std::string body;
  // Feed in 4 KiB reads; each read yields at most one data view per call.
  std::size_t fed = 0;
  std::string_view window;
  while (!decoder.done()) {
    if (window.empty()) {
      ASSERT_LT(fed, input.size());
      window = rest.substr(fed, 4096);
      fed += window.size();
    }
    const auto step = decoder.next(window);
    ASSERT_NE(step.status, ChunkedDecoder::Status::Error) << decoder.error();
    if (step.status == ChunkedDecoder::Status::Data) {
      ++data_steps;
      body.append(step.data);
    }
    window.remove_prefix(step.consumed);
  }
  EXPECT_EQ(body, payload);
  EXPECT_GE(data_steps, 100000u / 4096);
}

TEST(ChunkedDecoder, AppendChunkRoundTrip) {
  std::string encoded;
  append_chunk(encoded, "");
  EXPECT_EQ(encoded, "");
  append_chunk(encoded, "hello");
  append_chunk(encoded, std::string(26, 'q'));
  EXPECT_EQ(encoded, "5\r\nhello\r\n1a\r\n" + std::string(26, 'q') + "\r\n");
  encoded += kLastChunk;
  const Decoded d = decode(encoded);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "hello" + std::string(26, 'q'));
}

TEST(ChunkedDecoder, AfterDoneOrErrorNothingMoreIsConsumed) {
  ChunkedDecoder decoder;
  auto step = decoder.next("0\r\n\r\nmore");
  EXPECT_EQ(step.status, ChunkedDecoder::Status::Done);
  EXPECT_EQ(step.consumed, 5u);
  step = decoder.next("more");
  EXPECT_EQ(step.status, ChunkedDecoder::Status::Done);
  EXPECT_EQ(step.consumed, 0u);

  ChunkedDecoder failed;
  step = failed.next("xyz");
  EXPECT_EQ(step.status, ChunkedDecoder::Status::Error);
  EXPECT_EQ(step.consumed, 0u);
  step = failed.next("5\r\nhello\r\n");
  EXPECT_EQ(step.status, ChunkedDecoder::Status::Error);
  EXPECT_FALSE(failed.done());
}

TEST(ChunkedDecoder, EmptyInputNeedsMore) {
  ChunkedDecoder decoder;
  const auto step = decoder.next("");
  EXPECT_EQ(step.status, ChunkedDecoder::Status::NeedMore);
  EXPECT_EQ(step.consumed, 0u);
}

TEST(ChunkedDecoder, Incomplete) {
  for (const char* input : {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n0\r\n",
                            "0\r\nX: y\r\n", "0\r\nX: y\r", "0\r\n\r", "5;a=\"b"}) {
    const Decoded d = decode(input);
    EXPECT_FALSE(d.done) << input;
    EXPECT_FALSE(d.error) << input << ": " << d.message;
  }
}

class RejectChunked : public ::testing::TestWithParam<std::string> {};

TEST_P(RejectChunked, IsRejectedAtAnySplit) {
  const Decoded d = decode(GetParam());
  EXPECT_TRUE(d.error) << GetParam();
  EXPECT_FALSE(d.done);
  expect_split_independent(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Strictness, RejectChunked,
    ::testing::Values(std::string("0x5\r\nhello\r\n0\r\n\r\n"), std::string("+5\r\nhello\r\n0\r\n\r\n"),
                      std::string("-5\r\nhello\r\n0\r\n\r\n"), std::string("5_0\r\nhello\r\n0\r\n\r\n"),
                      std::string(" 5\r\nhello\r\n0\r\n\r\n"), std::string("\r\nhello\r\n0\r\n\r\n"),
                      std::string(";a\r\nhello\r\n0\r\n\r\n"),
                      std::string("00000000000000001\r\nx\r\n0\r\n\r\n"),    // 17 digits
                      std::string("10000000000000000\r\n"),                  // overflows uint64
                      std::string("5 \r\nhello\r\n0\r\n\r\n"),               // BWS not followed by ';'
                      std::string("5\nhello\r\n0\r\n\r\n"),                  // bare LF after size
                      std::string("5\rhello\r\n0\r\n\r\n"),                  // bare CR after size
                      std::string("5\r\nhello\n0\r\n\r\n"),                  // bare LF after data
                      std::string("5\r\nhelloX\r\n0\r\n\r\n"),               // data longer than size
                      std::string("5\r\nhello\rX0\r\n\r\n"),                 // CR after data without LF
                      std::string("5\r\nhello0\r\n\r\n"),                    // missing CRLF after data
                      std::string("5\r\nhello\r\n0\r\n\n"),                  // bare LF ends message
                      std::string("5\r\nhello\r\n0\n\r\n"),                  // bare LF after last chunk
                      std::string("5;\r\nhello\r\n0\r\n\r\n"),               // ';' without a name
                      std::string("5;=v\r\nhello\r\n0\r\n\r\n"),             // no name
                      std::string("5;a=\r\nhello\r\n0\r\n\r\n"),             // no value
                      std::string("5;a b\r\nhello\r\n0\r\n\r\n"),            // BWS then a name
                      std::string("5;a=\"b\r\nhello\r\n0\r\n\r\n"),          // CR inside quotes
                      std::string("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"),       // junk after quotes
                      std::string("5;a=b\x01\r\nhello\r\n0\r\n\r\n"),        // CTL in value
                      std::string("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n"),     // DEL in quotes
                      std::string("2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n"),  // llhttp: no ';' before ext
                      std::string("5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n"),     // llhttp: size line not CRLF
                      std::string("3\r\nfoo\r\n\r\n"),                       // llhttp: missing last-chunk
                      std::string("0\r\nX : y\r\n\r\n"),                     // trailer ws before colon
                      std::string("0\r\nX: y\r\n z\r\n\r\n"),                // trailer obs-fold
                      std::string("0\r\n: y\r\n\r\n"),                       // empty trailer name
                      std::string("0\r\nX: y\nZ: w\r\n\r\n"),                // bare LF in trailer
                      std::string("0\r\nX: y\rZ: w\r\n\r\n"),                // bare CR in trailer
                      std::string("0\r\nX: a\0b\r\n\r\n", 12),               // NUL in trailer value
                      std::string("0\r\nX\r\n\r\n"),                         // trailer without colon
                      std::string("0\r\n\rX")));                             // CR not followed by LF

TEST(ChunkedDecoder, SizeLineLimit) {
  const std::string extension = ";" + std::string(5000, 'e');
  const Decoded d = decode("5" + extension + "\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(d.error);
  EXPECT_LE(d.consumed, 4096u + 2);  // rejected without reading to the end of the line

  const Decoded fits = decode_pieces({"5;" + std::string(4000, 'e') + "\r\nhello\r\n0\r\n\r\n"});
  EXPECT_TRUE(fits.done) << fits.message;

  const Decoded small = decode_pieces({"5;abcdef\r\nhello\r\n0\r\n\r\n"}, ChunkedDecoder(4, 100));
  EXPECT_TRUE(small.error);
}

TEST(ChunkedDecoder, TrailerLimits) {
  std::string trailers = "0\r\n";
  for (int i = 0; i < 100; ++i) trailers += "X-T: " + std::string(200, 't') + "\r\n";
  trailers += "\r\n";
  EXPECT_TRUE(decode(trailers).error);  // > 16 KiB in total
  EXPECT_TRUE(decode_pieces({trailers}, ChunkedDecoder(4096, 64 * 1024)).done);
  EXPECT_TRUE(
      decode_pieces({"0\r\nX: " + std::string(300, 'v') + "\r\n\r\n"}, ChunkedDecoder(256, 4096)).error);
}

}  // namespace
}  // namespace tollway::http
