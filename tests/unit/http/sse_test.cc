// SseReader: every valid framing of the WHATWG event-stream format, split at every byte, reports the same
// events with byte ranges that tile the stream.
#include "http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::http {
namespace {

struct Seen {
  std::string type, data, id;
  uint64_t begin, end;
};

std::vector<Seen> read_in_pieces(std::string_view stream, std::size_t piece) {
  SseReader reader;
  std::vector<Seen> out;
  for (std::size_t i = 0; i < stream.size(); i += piece) {
    reader.feed(stream.substr(i, piece), [&](const SseEvent& e) {
      out.push_back({std::string(e.type), std::string(e.data), std::string(e.id), e.begin, e.end});
    });
  }
  return out;
}

// The events must not depend on how the stream is split.
std::vector<Seen> read_all_splits(std::string_view stream) {
  const auto whole = read_in_pieces(stream, stream.size() ? stream.size() : 1);
  for (std::size_t piece = 1; piece < stream.size(); ++piece) {
    const auto split = read_in_pieces(stream, piece);
    EXPECT_EQ(split.size(), whole.size()) << "piece size " << piece;
    for (std::size_t i = 0; i < std::min(split.size(), whole.size()); ++i) {
      EXPECT_EQ(split[i].type, whole[i].type) << "piece size " << piece;
      EXPECT_EQ(split[i].data, whole[i].data) << "piece size " << piece;
      EXPECT_EQ(split[i].begin, whole[i].begin) << "piece size " << piece;
      EXPECT_EQ(split[i].end, whole[i].end) << "piece size " << piece;
    }
  }
  return whole;
}

TEST(SseReader, LfFramingWithEventTypes) {
  const std::string s = "event: message_start\ndata: {\"a\":1}\n\nevent: ping\ndata: {}\n\n";
  const auto ev = read_all_splits(s);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, "message_start");
  EXPECT_EQ(ev[0].data, "{\"a\":1}");
  EXPECT_EQ(ev[0].begin, 0u);
  EXPECT_EQ(ev[0].end, s.find("event: ping"));
  EXPECT_EQ(ev[1].type, "ping");
  EXPECT_EQ(ev[1].end, s.size());
}

TEST(SseReader, CrlfAndLoneCrFramingGiveTheSameEvents) {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    std::string s = std::string("data: one") + eol + "data: two" + eol + eol + "data: [DONE]" + eol + eol;
    const auto ev = read_all_splits(s);
    ASSERT_EQ(ev.size(), 2u) << "eol " << int(eol[0]) << int(eol[1]);
    EXPECT_EQ(ev[0].type, "message");
    EXPECT_EQ(ev[0].data, "one\ntwo");
    EXPECT_EQ(ev[1].data, "[DONE]");
    const uint64_t lf_after_cr = std::string_view(eol) == "\r\n" ? 1 : 0;  // between end and the next begin
    EXPECT_EQ(ev[1].begin, ev[0].end + lf_after_cr);
    EXPECT_EQ(ev[1].end + lf_after_cr, s.size());
  }
}

TEST(SseReader, CrLfSplitAcrossReadsBelongsToThePreviousBlock) {
  SseReader reader;
  std::vector<Seen> out;
  auto cb = [&](const SseEvent& e) { out.push_back({std::string(e.type), std::string(e.data), "", e.begin, e.end}); };
  reader.feed("data: a\r\n\r", cb);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].end, 10u);
  reader.feed("\ndata: b\r\n\r\n", cb);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].begin, 11u);  // the LF completing the CR is skipped, not a blank line
  EXPECT_EQ(out[1].data, "b");
}

TEST(SseReader, CommentsBomAndFieldsWithoutValue) {
  const std::string s = "\xEF\xBB\xBF: keep-alive comment\n\nid: 7\nretry: 1500\nfoo: ignored\ndata\ndata:x\n\n";
  const auto ev = read_all_splits(s);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "\nx");  // `data` without colon adds an empty line
  EXPECT_EQ(ev[0].id, "7");
  EXPECT_EQ(ev[0].begin, s.find("id:"));  // the comment block before it dispatched nothing
}

TEST(SseReader, OnlyOneSpaceAfterTheColonIsRemoved) {
  const auto ev = read_all_splits("data:  two spaces\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, " two spaces");
}

TEST(SseReader, EventWithoutDataIsNotDispatchedAndTypeResets) {
  const auto ev = read_all_splits("event: lonely\n\ndata: d\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "message");
}

TEST(SseReader, UnterminatedEventAtEndIsPendingNotDispatched) {
  SseReader reader;
  int n = 0;
  reader.feed("data: complete\n\ndata: cut", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(reader.has_pending_event());
  EXPECT_EQ(reader.pending_block_begin(), 16u);
}

TEST(SseReader, BomPrefixThatIsNotABomIsLineContent) {
  const auto ev = read_all_splits("\xEF\xBB" "data: x\n\ndata: y\n\n");
  // "\xEF\xBBdata" is an unknown field name: that block dispatches nothing.
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "y");
}

TEST(SseReader, RetryNeedsDigitsOnly) {
  SseReader reader;
  reader.feed("retry: 12a\n\nretry: 250\n\n", [](const SseEvent&) {});
  EXPECT_EQ(reader.retry_ms(), 250u);
}

}  // namespace
}  // namespace tollway::http
