#include "control/traces/trace_queries.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/strict_json.h"

namespace tollway::control::traces {
namespace {

using core::strict_json::Value;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000;
const telemetry::TraceId kTrace = *telemetry::TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");

ReceivedSpan make(const char* service, const char* id, const char* parent, const char* name, SpanKind kind,
                  uint64_t start_us, uint64_t end_us) {
  ReceivedSpan r;
  r.trace_id = kTrace;
  r.span.span_id = *telemetry::SpanId::from_hex(id);
  if (*parent) r.span.parent_span_id = *telemetry::SpanId::from_hex(parent);
  r.span.service = std::make_shared<const std::string>(service);
  r.span.name = name;
  r.span.kind = kind;
  r.span.start_unix_nano = kT0 + start_us * 1000;
  r.span.end_unix_nano = kT0 + end_us * 1000;
  return r;
}

Value parse(const std::string& json) {
  std::string error;
  core::strict_json::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  auto v = core::strict_json::parse(json, error, limits);
  EXPECT_TRUE(v) << error << "\n" << json;
  return v ? std::move(*v) : Value();
}

// A gateway request to a provider with two attempts, a sidecar hop (an orphan call) under the second attempt, and a
// span whose parent never arrived.
TraceWindow sample_window() {
  TraceWindow window(100);
  std::vector<ReceivedSpan> spans;
  spans.push_back(make("gateway", "000000000000000a", "", "POST /v1/chat/completions", SpanKind::Server, 0, 1000));
  spans.push_back(make("gateway", "000000000000000b", "000000000000000a", "chat gpt-4o", SpanKind::Client, 100, 400));
  spans.push_back(make("gateway", "000000000000000c", "000000000000000a", "chat gpt-4o", SpanKind::Client, 300, 900));
  auto hop = make("sidecar-b", "000000000000000d", "000000000000000c", "GET /call", SpanKind::Server, 350, 850);
  hop.span.orphan = true;
  hop.span.repaired = true;
  hop.span.tollway_hops = 2;
  hop.span.peer = "agent-a";
  hop.span.http_status = 502;
  hop.span.status = StatusCode::Error;
  hop.span.status_message = "HTTP 502";
  spans.push_back(std::move(hop));
  spans.push_back(make("sidecar-c", "000000000000000e", "00000000000000ff", "GET /lost", SpanKind::Server, 500, 600));
  window.add(std::move(spans));
  return window;
}

TEST(TraceQueries, TheListSummarisesEachTrace) {
  const TraceWindow window = sample_window();
  const Value list = parse(trace_list_json(window, 10));
  EXPECT_EQ(list.find("max_spans")->as_int(), 100);
  EXPECT_EQ(list.find("spans_held")->as_int(), 5);
  EXPECT_EQ(list.find("traces_held")->as_int(), 1);
  ASSERT_EQ(list.find("traces")->items().size(), 1u);
  const Value& t = list.find("traces")->items()[0];
  EXPECT_EQ(t.find("trace_id")->as_string(), kTrace.hex());
  EXPECT_EQ(t.find("name")->as_string(), "POST /v1/chat/completions");
  EXPECT_EQ(t.find("service")->as_string(), "gateway");
  EXPECT_TRUE(t.find("has_root")->as_bool());
  EXPECT_EQ(t.find("start_unix_nano")->as_string(), std::to_string(kT0));
  EXPECT_EQ(t.find("duration_us")->as_number(), 1000);
  EXPECT_EQ(t.find("span_count")->as_int(), 5);
  ASSERT_EQ(t.find("services")->items().size(), 3u);
  EXPECT_EQ(t.find("services")->items()[1].as_string(), "sidecar-b");
  EXPECT_EQ(t.find("hop_count")->as_int(), 3);  // gateway, sidecar-b under it, sidecar-c on its own
  EXPECT_EQ(t.find("orphan_spans")->as_int(), 1);
  EXPECT_EQ(t.find("repaired_spans")->as_int(), 1);
  EXPECT_EQ(t.find("parent_missing_spans")->as_int(), 1);
  EXPECT_EQ(t.find("error_spans")->as_int(), 1);
  EXPECT_TRUE(t.find("error")->as_bool());
}

TEST(TraceQueries, TheTraceIsInWaterfallOrderWithSelfTimes) {
  const TraceWindow window = sample_window();
  const Value trace = parse(trace_json(*window.find(kTrace)));
  const auto& spans = trace.find("spans")->items();
  ASSERT_EQ(spans.size(), 5u);
  std::vector<std::string> order;
  for (const auto& s : spans) order.push_back(s.find("span_id")->as_string().substr(14));
  EXPECT_EQ(order, (std::vector<std::string>{"0a", "0b", "0c", "0d", "0e"}));
  const auto depth = [&](int i) { return spans[i].find("depth")->as_int(); };
  EXPECT_EQ(depth(0), 0);
  EXPECT_EQ(depth(1), 1);
  EXPECT_EQ(depth(2), 1);
  EXPECT_EQ(depth(3), 2);
  EXPECT_EQ(depth(4), 0);
  // The root's children cover 100..900 (overlapping attempts count once): 200 µs of its own.
  EXPECT_EQ(spans[0].find("self_us")->as_number(), 200);
  EXPECT_EQ(spans[0].find("duration_us")->as_number(), 1000);
  EXPECT_EQ(spans[2].find("self_us")->as_number(), 100);  // 600 minus the hop's 500
  EXPECT_EQ(spans[3].find("self_us")->as_number(), 500);
  EXPECT_EQ(spans[3].find("start_offset_us")->as_number(), 350);
  EXPECT_TRUE(spans[0].find("parent_span_id")->is_null());
  EXPECT_EQ(spans[3].find("parent_span_id")->as_string(), "000000000000000c");
  EXPECT_EQ(spans[3].find("service")->as_string(), "sidecar-b");
  EXPECT_EQ(spans[3].find("kind")->as_string(), "SERVER");
  EXPECT_EQ(spans[1].find("kind")->as_string(), "CLIENT");
  EXPECT_EQ(spans[3].find("status")->as_string(), "ERROR");
  EXPECT_EQ(spans[3].find("status_message")->as_string(), "HTTP 502");
  EXPECT_EQ(spans[3].find("http_status")->as_int(), 502);
  EXPECT_TRUE(spans[0].find("http_status")->is_null());
  EXPECT_EQ(spans[3].find("tollway_hops")->as_int(), 2);
  EXPECT_EQ(spans[3].find("peer")->as_string(), "agent-a");
  EXPECT_TRUE(spans[3].find("orphan")->as_bool());
  EXPECT_TRUE(spans[3].find("repaired")->as_bool());
  EXPECT_TRUE(spans[3].find("enters_service")->as_bool());
  EXPECT_FALSE(spans[1].find("enters_service")->as_bool());
  EXPECT_TRUE(spans[4].find("parent_missing")->as_bool());
  EXPECT_FALSE(spans[3].find("parent_missing")->as_bool());
  EXPECT_EQ(trace.find("span_count")->as_int(), 5);
}

TEST(TraceQueries, SpansInAParentCycleStillAppearOnce) {
  TraceWindow window(10);
  std::vector<ReceivedSpan> spans;
  spans.push_back(make("a", "0000000000000001", "0000000000000002", "x", SpanKind::Internal, 0, 10));
  spans.push_back(make("a", "0000000000000002", "0000000000000001", "y", SpanKind::Internal, 5, 10));
  window.add(std::move(spans));
  const Value trace = parse(trace_json(*window.find(kTrace)));
  ASSERT_EQ(trace.find("spans")->items().size(), 2u);
  EXPECT_FALSE(trace.find("has_root")->as_bool());
  EXPECT_EQ(trace.find("name")->as_string(), "x");
}

}  // namespace
}  // namespace tollway::control::traces
