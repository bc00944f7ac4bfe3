// BodyReader: Content-Length, chunked (extensions, trailers, malformed sizes), close-delimited, limits, a
// peer that closes early, and every body fed split at every byte boundary (and one byte at a time).
#include "http/body_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::http {
namespace {

using Status = BodyReader::Status;
using Failure = BodyReader::Failure;

// What feeding `parts` one after the other produced: the content, the input bytes used, the last status.
struct Fed {
  std::string content;
  std::size_t used = 0;
  Status last = Status::NeedMore;
};

Fed feed(BodyReader& reader, const std::vector<std::string_view>& parts) {
  Fed fed;
  for (std::string_view part : parts) {
    std::size_t used = 0;
    while (true) {
      const auto step = reader.next(part.substr(used));
      used += step.consumed;
      fed.last = step.status;
      if (step.status == Status::Data) {
        EXPECT_FALSE(step.data.empty());
        fed.content.append(step.data);
        continue;
      }
      break;
    }
    fed.used += used;
    if (fed.last == Status::Done || fed.last == Status::Error) break;
  }
  return fed;
}

TEST(BodyReader, ContentLengthStopsAtItsLength) {
  BodyReader reader(BodyFraming::ContentLength, 5);
  const Fed fed = feed(reader, {"hel", "loGET / HTTP/1.1\r\n"});
  EXPECT_EQ(fed.last, Status::Done);
  EXPECT_EQ(fed.content, "hello");
  EXPECT_EQ(fed.used, 5u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.content_bytes(), 5u);
}

TEST(BodyReader, EmptyBodiesAreDoneAtOnce) {
  EXPECT_TRUE(BodyReader(BodyFraming::ContentLength, 0).done());
  EXPECT_TRUE(BodyReader(BodyFraming::None, 0).done());
  BodyReader none(BodyFraming::None, 0);
  EXPECT_EQ(none.next("next message").status, Status::Done);
  EXPECT_EQ(none.next("next message").consumed, 0u);
}

TEST(BodyReader, ReadsTheFramingOfAParsedHead) {
  RequestHead request;
  request.framing = BodyFraming::ContentLength;
  request.content_length = 3;
  BodyReader reader(request, 10);
  EXPECT_EQ(reader.framing(), BodyFraming::ContentLength);
  EXPECT_EQ(reader.remaining(), 3u);
  ResponseHead response;
  response.framing = BodyFraming::Chunked;
  EXPECT_EQ(BodyReader(response).framing(), BodyFraming::Chunked);
}

TEST(BodyReader, ChunkedWithExtensionsAndTrailers) {
  const std::string body =
      "4;name=value;quoted=\"a \\\"b\\\"\"\r\nWiki\r\n"
      "5 ; flag\r\npedia\r\n"
      "000E\r\n in\r\n\r\nchunks.\r\n"
      "0\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n";
  BodyReader reader(BodyFraming::Chunked, 0);
  const Fed fed = feed(reader, {body + "HTTP/1.1 200 OK\r\n"});
  EXPECT_EQ(fed.last, Status::Done);
  EXPECT_EQ(fed.content, "Wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(fed.used, body.size()) << "the next message's bytes are left alone";
  EXPECT_EQ(reader.content_bytes(), 23u);
}

TEST(BodyReader, MalformedChunkSizesAreRejectedWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0x5\r\nhello\r\n0\r\n\r\n", "invalid character in chunk size"},
      {"-5\r\nhello\r\n0\r\n\r\n", "chunk size must start with a hex digit"},
      {"+5\r\nhello\r\n0\r\n\r\n", "chunk size must start with a hex digit"},
      {"\r\nhello\r\n0\r\n\r\n", "chunk size must start with a hex digit"},
      {"5 5\r\nhello\r\n0\r\n\r\n", "whitespace in chunk size line not followed by ';'"},
      {"1_0\r\nhello\r\n0\r\n\r\n", "invalid character in chunk size"},
      {"10000000000000000\r\n", "chunk size has more than 16 hex digits"},
      {"5\nhello\r\n0\r\n\r\n", "invalid character in chunk size"},
      {"5\r\nhelloX\r\n0\r\n\r\n", "chunk data must be followed by CRLF"},
      {"0\r\nbad trailer\r\n\r\n", "whitespace between trailer field name and colon"},
  };
  for (const auto& [body, why] : cases) {
    BodyReader reader(BodyFraming::Chunked, 0);
    const Fed fed = feed(reader, {body});
    EXPECT_EQ(fed.last, Status::Error) << body;
    EXPECT_EQ(reader.failure(), Failure::Malformed) << body;
    EXPECT_EQ(reader.error(), why) << body;
    EXPECT_EQ(reader.next("0\r\n\r\n").status, Status::Error) << "an error is final";
  }
}

TEST(BodyReader, CloseDelimitedEndsWithTheConnection) {
  BodyReader reader(BodyFraming::UntilClose, 0);
  const Fed fed = feed(reader, {"all ", "of it"});
  EXPECT_EQ(fed.last, Status::NeedMore);
  EXPECT_EQ(fed.content, "all of it");
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.end_of_input().status, Status::Done);
  EXPECT_TRUE(reader.done());
}

TEST(BodyReader, APeerThatClosesEarlyCutsTheBody) {
  BodyReader length(BodyFraming::ContentLength, 10);
  feed(length, {"short"});
  EXPECT_EQ(length.end_of_input().status, Status::Error);
  EXPECT_EQ(length.failure(), Failure::Truncated);
  EXPECT_EQ(length.error(), "connection closed before Content-Length bytes arrived");

  BodyReader chunked(BodyFraming::Chunked, 0);
  feed(chunked, {"5\r\nhello\r\n"});
  EXPECT_EQ(chunked.end_of_input().status, Status::Error);
  EXPECT_EQ(chunked.failure(), Failure::Truncated);
  EXPECT_EQ(chunked.error(), "connection closed inside a chunked body");

  BodyReader complete(BodyFraming::ContentLength, 2);
  feed(complete, {"ok"});
  EXPECT_EQ(complete.end_of_input().status, Status::Done);
}

TEST(BodyReader, ContentLengthOverTheLimitIsRefusedBeforeAnyByte) {
  BodyReader reader(BodyFraming::ContentLength, 11, 10);
  const auto step = reader.next("0123456789a");
  EXPECT_EQ(step.status, Status::Error);
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_EQ(reader.failure(), Failure::TooLarge);
  BodyReader at_limit(BodyFraming::ContentLength, 10, 10);
  EXPECT_EQ(feed(at_limit, {"0123456789"}).last, Status::Done);
}

TEST(BodyReader, ChunkedOverTheLimitIsRefusedWhenTheSizeIsAnnounced) {
  BodyReader reader(BodyFraming::Chunked, 0, 10);
  // 6 bytes, then a chunk announcing 5 more: refused before its data arrives.
  const Fed fed = feed(reader, {"6\r\nabcdef\r\n5\r\n"});
  EXPECT_EQ(fed.last, Status::Error);
  EXPECT_EQ(fed.content, "abcdef");
  EXPECT_EQ(reader.failure(), Failure::TooLarge);
  BodyReader huge(BodyFraming::Chunked, 0, 1 << 20);
  EXPECT_EQ(feed(huge, {"ffffffffffffffff\r\n"}).last, Status::Error);
  EXPECT_EQ(huge.failure(), Failure::TooLarge);
  BodyReader at_limit(BodyFraming::Chunked, 0, 10);
  const Fed exact = feed(at_limit, {"6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"});
  EXPECT_EQ(exact.last, Status::Done);
  EXPECT_EQ(exact.content, "abcdefghij");
}

TEST(BodyReader, CloseDelimitedOverTheLimit) {
  BodyReader reader(BodyFraming::UntilClose, 0, 8);
  EXPECT_EQ(feed(reader, {"12345", "678"}).last, Status::NeedMore);
  EXPECT_EQ(feed(reader, {"9"}).last, Status::Error);
  EXPECT_EQ(reader.failure(), Failure::TooLarge);
  EXPECT_EQ(reader.end_of_input().status, Status::Error);
}

// Every framing, its input split in two at every byte boundary and fed one byte at a time: the same content,
// and the bytes of the next message never taken.
TEST(BodyReader, SplitAtEveryByteBoundary) {
  struct Case {
    BodyFraming framing;
    uint64_t length;
    std::string body;
    std::string content;
  };
  const std::vector<Case> cases = {
      {BodyFraming::ContentLength, 11, "hello world", "hello world"},
      {BodyFraming::Chunked, 0,
       "5;a=\"q;\\\"x\"\r\nhello\r\n1 \t;b\r\n \r\n5\r\nworld\r\n0\r\nTrailer: v\r\n\r\n", "hello world"},
  };
  const std::string next_message = "POST /next HTTP/1.1\r\n";
  for (const Case& c : cases) {
    const std::string input = c.body + next_message;
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
      BodyReader reader(c.framing, c.length);
      const Fed fed =
          feed(reader, {std::string_view(input).substr(0, cut), std::string_view(input).substr(cut)});
      EXPECT_EQ(fed.last, Status::Done) << "cut at " << cut;
      EXPECT_EQ(fed.content, c.content) << "cut at " << cut;
      EXPECT_EQ(fed.used, c.body.size()) << "cut at " << cut;
    }
    BodyReader reader(c.framing, c.length);
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
    const Fed fed = feed(reader, bytes);
    EXPECT_EQ(fed.last, Status::Done);
    EXPECT_EQ(fed.content, c.content);
    EXPECT_EQ(fed.used, c.body.size());
  }
  // Close-delimited: every split gives the whole input.
  const std::string all = "data: {}\n\ndata: [DONE]\n\n";
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    BodyReader reader(BodyFraming::UntilClose, 0);
    const Fed fed = feed(reader, {std::string_view(all).substr(0, cut), std::string_view(all).substr(cut)});
    EXPECT_EQ(fed.content, all);
    EXPECT_EQ(reader.end_of_input().status, Status::Done);
  }
}

}  // namespace
}  // namespace tollway::http
