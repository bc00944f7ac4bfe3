#include "control/traces/otlp_trace_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace tollway::control::traces {
namespace {

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";

// An ExportTraceServiceRequest with one resource (service `service`) and `spans` (JSON Span objects).
std::string request(const std::string& service, const std::string& spans) {
  return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":")" + service +
         R"("}}]},"scopeSpans":[{"scope":{"name":"tollway"},"spans":[)" + spans + "]}]}]}";
}

std::string span(const std::string& id, const std::string& parent = "", const std::string& extra = "") {
  return R"({"traceId":")" + std::string(kTrace) + R"(","spanId":")" + id + R"(","parentSpanId":")" + parent +
         R"(","name":"POST /v1/chat/completions","kind":2,"startTimeUnixNano":"1700000000000000000",)"
         R"("endTimeUnixNano":"1700000000002500000")" +
         extra + "}";
}

std::string read_error(const std::string& json) {
  std::string error;
  EXPECT_FALSE(read_otlp_traces(json, error).has_value()) << json;
  return error;
}

TEST(OtlpTraceReader, ReadsWhatOurExportersSend) {
  const std::string json = request(
      "tollway-gateway",
      span("00f067aa0ba902b7", "",
           R"(,"flags":1,"attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}},)"
           R"({"key":"tollway.hops","value":{"intValue":"2"}},{"key":"tollway.peer","value":{"stringValue":"agent-b"}},)"
           R"({"key":"tollway.trace.orphan","value":{"boolValue":true}},)"
           R"({"key":"tollway.trace.repaired","value":{"boolValue":true}},)"
           R"({"key":"tollway.cost_usd","value":{"doubleValue":0.000125}}],"status":{"message":"timeout","code":2})"));
  std::string error;
  const auto spans = read_otlp_traces(json, error);
  ASSERT_TRUE(spans) << error;
  ASSERT_EQ(spans->size(), 1u);
  const ReceivedSpan& s = spans->front();
  EXPECT_EQ(s.trace_id.hex(), kTrace);
  EXPECT_EQ(s.span.span_id.hex(), "00f067aa0ba902b7");
  EXPECT_FALSE(s.span.parent_span_id.valid());
  EXPECT_EQ(*s.span.service, "tollway-gateway");
  EXPECT_EQ(s.span.name, "POST /v1/chat/completions");
  EXPECT_EQ(s.span.kind, SpanKind::Server);
  EXPECT_EQ(s.span.start_unix_nano, 1700000000000000000u);
  EXPECT_EQ(s.span.end_unix_nano, 1700000000002500000u);
  EXPECT_EQ(s.span.status, StatusCode::Error);
  EXPECT_EQ(s.span.status_message, "timeout");
  EXPECT_EQ(s.span.http_status, 200);
  EXPECT_EQ(s.span.tollway_hops, 2u);
  EXPECT_EQ(s.span.peer, "agent-b");
  EXPECT_TRUE(s.span.orphan);
  EXPECT_TRUE(s.span.repaired);
}

TEST(OtlpTraceReader, AcceptsTheSpecsOtherSpellings) {
  // Uppercase hex ids, times and ints as JSON numbers, enums by name, unknown fields, no resource.
  const std::string json =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736",)"
      R"("spanId":"00F067AA0BA902B7","parentSpanId":"B7AD6B7169203331","kind":"SPAN_KIND_CLIENT",)"
      R"("startTimeUnixNano":1700000000000000000,"endTimeUnixNano":1700000000000000100,"droppedEventsCount":0,)"
      R"("attributes":[{"key":"http.response.status_code","value":{"intValue":503}},)"
      R"({"key":"nested","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"}]}}}]}}}],)"
      R"("status":{"code":"STATUS_CODE_OK"},"futureField":{"x":[1]}}]}]}],"futureTop":true})";
  std::string error;
  const auto spans = read_otlp_traces(json, error);
  ASSERT_TRUE(spans) << error;
  ASSERT_EQ(spans->size(), 1u);
  const WindowSpan& s = spans->front().span;
  EXPECT_EQ(spans->front().trace_id.hex(), kTrace);
  EXPECT_EQ(s.parent_span_id.hex(), "b7ad6b7169203331");
  EXPECT_EQ(s.kind, SpanKind::Client);
  EXPECT_EQ(s.status, StatusCode::Ok);
  EXPECT_EQ(s.http_status, 503);
  EXPECT_EQ(*s.service, "");
  EXPECT_EQ(s.end_unix_nano - s.start_unix_nano, 100u);
}

TEST(OtlpTraceReader, AnEmptyRequestHasNoSpans) {
  std::string error;
  for (const char* json : {"{}", R"({"resourceSpans":[]})", R"({"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]})"}) {
    const auto spans = read_otlp_traces(json, error);
    ASSERT_TRUE(spans) << json << ": " << error;
    EXPECT_TRUE(spans->empty());
  }
}

// A span whose fields are `fields` (JSON members) and otherwise a valid root span.
std::string span_with(const std::string& fields) {
  return R"({"traceId":")" + std::string(kTrace) + R"(","spanId":"00f067aa0ba902b7",)" + fields + "}";
}
constexpr const char* kTimes = R"("startTimeUnixNano":"10","endTimeUnixNano":"20")";

TEST(OtlpTraceReader, NamesThePathOfTheFirstBadField) {
  const std::string ok = span("00f067aa0ba902b7");
  const std::string second = "resourceSpans[0].scopeSpans[0].spans[1].";
  EXPECT_EQ(read_error(request("g", ok + R"(,{"traceId":"xyz","spanId":"00f067aa0ba902b7"})")),
            second + "traceId: expected 32 hex digits, not all zero");
  EXPECT_EQ(read_error(request("g", ok + R"(,{"traceId":"00000000000000000000000000000000"})")),
            second + "traceId: expected 32 hex digits, not all zero");
  EXPECT_EQ(read_error(request("g", ok + R"(,{"traceId":")" + kTrace + R"(","spanId":7})")),
            second + "spanId: expected 16 hex digits, not all zero");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(R"("parentSpanId":"00f0")"))),
            second + "parentSpanId: expected 16 hex digits, not all zero, or \"\" for a root span");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(R"("endTimeUnixNano":"20")"))),
            second + "startTimeUnixNano: expected a positive fixed64 (a decimal string or an integer)");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(R"("startTimeUnixNano":"30","endTimeUnixNano":"20")"))),
            second + "endTimeUnixNano: expected a fixed64 (a decimal string or an integer) not before "
                     "startTimeUnixNano");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(R"("startTimeUnixNano":"1e3","endTimeUnixNano":"2")"))),
            second + "startTimeUnixNano: expected a positive fixed64 (a decimal string or an integer)");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) + R"(,"kind":9)"))),
            second + "kind: expected a SpanKind, 0 to 5 or its name");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) + R"(,"status":{"code":"BAD"})"))),
            second + "status.code: expected a StatusCode, 0 to 2 or its name");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) + R"(,"name":["x"])"))),
            second + "name: expected a string");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) +
                                                         R"(,"attributes":[{"key":"a","value":{"intValue":"x"}}])"))),
            second + "attributes[0].value.intValue: expected an int64 (a decimal string or an integer)");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) + R"(,"attributes":[{"value":{}}])"))),
            second + "attributes[0].key: expected a string");
  EXPECT_EQ(read_error(request("g", ok + "," + span_with(std::string(kTimes) +
      R"(,"attributes":[{"key":"a","value":{"stringValue":"x","boolValue":true}}])"))),
            second + "attributes[0].value: expected at most one of stringValue, boolValue, intValue, doubleValue, "
                     "arrayValue, kvlistValue, bytesValue");
  EXPECT_EQ(read_error(R"({"resourceSpans":{}})"), "resourceSpans: expected an array");
  EXPECT_EQ(read_error(R"({"resourceSpans":[{"resource":{"attributes":[1]}}]})"),
            "resourceSpans[0].resource.attributes[0]: expected a KeyValue object {key, value}");
  EXPECT_EQ(read_error(R"({"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans: expected an array");
  EXPECT_EQ(read_error("[]"), "the body: expected an ExportTraceServiceRequest object {resourceSpans: [...]}");
  EXPECT_EQ(read_error("{\"resourceSpans\":[").rfind("not JSON: ", 0), 0u);
  EXPECT_EQ(read_error(R"({"resourceSpans":[],"resourceSpans":[]})").rfind("not JSON: ", 0), 0u);
}

}  // namespace
}  // namespace tollway::control::traces
