#include "control/traces/trace_window.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::control::traces {
namespace {

telemetry::TraceId trace_id(int n) {
  telemetry::TraceId id;
  id.bytes[0] = 0x10;
  id.bytes[15] = static_cast<uint8_t>(n);
  return id;
}

telemetry::SpanId span_id(int n) {
  telemetry::SpanId id;
  id.bytes[0] = 0x20;
  id.bytes[7] = static_cast<uint8_t>(n);
  return id;
}

ReceivedSpan received(int trace, int span, uint64_t start = 1000) {
  ReceivedSpan r;
  r.trace_id = trace_id(trace);
  r.span.span_id = span_id(span);
  r.span.start_unix_nano = start;
  r.span.end_unix_nano = start + 100;
  return r;
}

std::vector<ReceivedSpan> spans_of(int trace, int count, int first_span = 1, uint64_t start = 1000) {
  std::vector<ReceivedSpan> out;
  for (int i = 0; i < count; ++i) out.push_back(received(trace, first_span + i, start));
  return out;
}

TEST(TraceWindow, HoldsWhatItIsGiven) {
  TraceWindow window(10);
  const auto added = window.add(spans_of(1, 3));
  EXPECT_EQ(added.accepted, 3u);
  EXPECT_EQ(added.evicted, 0u);
  EXPECT_EQ(window.spans_held(), 3u);
  EXPECT_EQ(window.traces_held(), 1u);
  const WindowTrace* trace = window.find(trace_id(1));
  ASSERT_NE(trace, nullptr);
  EXPECT_EQ(trace->spans.size(), 3u);
  EXPECT_EQ(window.find(trace_id(2)), nullptr);
}

TEST(TraceWindow, NeverGrowsPastItsBoundAndEvictsWholeOldestTraces) {
  TraceWindow window(10);
  window.add(spans_of(1, 4));
  window.add(spans_of(2, 4));
  window.add(spans_of(3, 4));  // 12 > 10: trace 1 (4 spans) goes, whole
  EXPECT_EQ(window.spans_held(), 8u);
  EXPECT_EQ(window.find(trace_id(1)), nullptr);
  EXPECT_NE(window.find(trace_id(2)), nullptr);
  EXPECT_EQ(window.totals().evicted, 4u);
  for (int t = 4; t < 40; ++t) {
    window.add(spans_of(t, 1 + t % 5));
    EXPECT_LE(window.spans_held(), 10u);
  }
  std::size_t held = 0;
  for (const WindowTrace* trace : window.newest(1000)) held += trace->spans.size();
  EXPECT_EQ(held, window.spans_held());
  EXPECT_EQ(window.totals().accepted, window.spans_held() + window.totals().evicted);
}

TEST(TraceWindow, ATraceThatReceivesASpanIsEvictedLast) {
  TraceWindow window(6);
  window.add(spans_of(1, 2));
  window.add(spans_of(2, 2));
  window.add(spans_of(1, 1, 10));  // trace 1 is now the most recent
  window.add(spans_of(3, 2));      // 7 > 6: trace 2 goes, not trace 1
  EXPECT_EQ(window.find(trace_id(2)), nullptr);
  ASSERT_NE(window.find(trace_id(1)), nullptr);
  EXPECT_EQ(window.find(trace_id(1))->spans.size(), 3u);
}

TEST(TraceWindow, ARetriedSpanIsNotHeldTwice) {
  TraceWindow window(10);
  window.add(spans_of(1, 3));
  const auto added = window.add(spans_of(1, 4));
  EXPECT_EQ(added.duplicate, 3u);
  EXPECT_EQ(added.accepted, 1u);
  EXPECT_EQ(window.spans_held(), 4u);
}

TEST(TraceWindow, ATraceLargerThanTheBoundKeepsTheBoundAndTheRestIsRejected) {
  TraceWindow window(5);
  window.add(spans_of(2, 2));
  const auto added = window.add(spans_of(1, 8));
  EXPECT_EQ(added.accepted, 5u);
  EXPECT_EQ(added.rejected, 3u);
  EXPECT_EQ(added.evicted, 2u);  // trace 2 made room
  EXPECT_EQ(window.spans_held(), 5u);
  EXPECT_EQ(window.find(trace_id(1))->spans.size(), 5u);
}

TEST(TraceWindow, NewestIsByStartTimeLatestFirst) {
  TraceWindow window(100);
  window.add(spans_of(1, 1, 1, 3000));
  window.add(spans_of(2, 1, 1, 1000));
  window.add(spans_of(3, 1, 1, 2000));
  window.add(spans_of(2, 1, 2, 500));  // trace 2 now starts at 500
  const auto newest = window.newest(2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0]->trace_id, trace_id(1));
  EXPECT_EQ(newest[1]->trace_id, trace_id(3));
  EXPECT_EQ(window.find(trace_id(2))->start_unix_nano, 500u);
  EXPECT_EQ(window.newest(10).size(), 3u);
}

}  // namespace
}  // namespace tollway::control::traces
