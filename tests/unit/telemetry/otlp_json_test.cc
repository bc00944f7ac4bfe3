// OTLP/HTTP JSON encoding, checked by decoding the output with simdjson and asserting each field's JSON type:
// ids as lowercase hex of the right length, enums as integers, 64-bit integers as decimal strings,
// lowerCamelCase keys (opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding").
#include "telemetry/otlp_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tollway::telemetry {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

struct Decoded {
  simdjson::dom::parser parser;
  element root;
  explicit Decoded(const std::string& json) {
    auto error = parser.parse(json).get(root);
    if (error) ADD_FAILURE() << "not JSON: " << simdjson::error_message(error) << "\n" << json;
  }
};

bool is_lower_hex(std::string_view s, std::size_t length) {
  if (s.size() != length) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string_view str(element e) {
  std::string_view s;
  EXPECT_EQ(e.get_string().get(s), simdjson::SUCCESS) << "not a string";
  return s;
}

int64_t integer(element e) {
  EXPECT_EQ(e.type(), element_type::INT64) << "not an integer";
  return int64_t(e);
}

// The value of attribute `key` in an OTLP attributes array, or a null element.
element attribute_value(element attributes, std::string_view key) {
  for (element kv : attributes.get_array()) {
    if (str(kv["key"]) == key) return kv["value"];
  }
  ADD_FAILURE() << "attribute " << key << " missing";
  return element();
}

Span sample_server_span() {
  Span span;
  span.trace_id = *TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  span.span_id = *SpanId::from_hex("00f067aa0ba902b7");
  span.parent_span_id = *SpanId::from_hex("b7ad6b7169203331");
  span.parent_is_remote = true;
  span.trace_flags = 1;
  span.trace_state = "tollway=00f067aa0ba902b7,congo=t61rcWkgMzE";
  span.name = "chat gpt-4o";
  span.kind = SpanKind::Server;
  span.start_unix_nano = 1'700'000'000'123'456'789ULL;
  span.end_unix_nano = std::numeric_limits<uint64_t>::max();  // not representable as a JSON double
  span.status_code = StatusCode::Error;
  span.status_message = "upstream \"timeout\"\n";
  span.attributes.set("gen_ai.request.model", "gpt-4o");
  span.attributes.set("gen_ai.usage.input_tokens", 9'007'199'254'740'993LL);  // 2^53 + 1
  span.attributes.set("tollway.cost_usd", 0.1);
  span.attributes.set("tollway.cached", true);
  span.attributes.set("count", 3);
  SpanEvent event;
  event.name = "retry";
  event.time_unix_nano = 1'700'000'000'200'000'000ULL;
  event.attributes.set("attempt", 2);
  span.events.push_back(event);
  return span;
}

TEST(OtlpTraceJson, EncodesAnExportTraceServiceRequest) {
  Resource resource = Resource::for_service("tollway", "0.1.0", "host-1");
  InstrumentationScope scope{"tollway.gateway", "0.1.0"};
  Span root;
  root.trace_id = *TraceId::from_hex("0af7651916cd43dd8448eb211c80319c");
  root.span_id = *SpanId::from_hex("00f067aa0ba902b7");
  root.name = "root";
  root.kind = SpanKind::Client;
  std::vector<Span> spans = {sample_server_span(), root};
  const std::string json = encode_trace_export_request(resource, scope, spans);
  Decoded d(json);

  element rs = d.root["resourceSpans"].at(0);
  EXPECT_EQ(str(attribute_value(rs["resource"]["attributes"], "service.name")["stringValue"]), "tollway");
  EXPECT_EQ(str(attribute_value(rs["resource"]["attributes"], "service.instance.id")["stringValue"]), "host-1");
  element ss = rs["scopeSpans"].at(0);
  EXPECT_EQ(str(ss["scope"]["name"]), "tollway.gateway");
  EXPECT_EQ(str(ss["scope"]["version"]), "0.1.0");
  simdjson::dom::array span_array = ss["spans"].get_array();
  ASSERT_EQ(span_array.size(), 2u);

  element s = ss["spans"].at(0);
  EXPECT_TRUE(is_lower_hex(str(s["traceId"]), 32));
  EXPECT_EQ(str(s["traceId"]), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(is_lower_hex(str(s["spanId"]), 16));
  EXPECT_EQ(str(s["parentSpanId"]), "b7ad6b7169203331");
  EXPECT_EQ(str(s["traceState"]), "tollway=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(integer(s["flags"]), 0x301);  // sampled, has-is-remote, is-remote
  EXPECT_EQ(str(s["name"]), "chat gpt-4o");
  EXPECT_EQ(integer(s["kind"]), 2);
  EXPECT_EQ(str(s["startTimeUnixNano"]), "1700000000123456789");
  EXPECT_EQ(str(s["endTimeUnixNano"]), "18446744073709551615");
  EXPECT_EQ(integer(s["status"]["code"]), 2);
  EXPECT_EQ(str(s["status"]["message"]), "upstream \"timeout\"\n");

  element attributes = s["attributes"];
  EXPECT_EQ(str(attribute_value(attributes, "gen_ai.request.model")["stringValue"]), "gpt-4o");
  EXPECT_EQ(str(attribute_value(attributes, "gen_ai.usage.input_tokens")["intValue"]), "9007199254740993");
  EXPECT_EQ(str(attribute_value(attributes, "count")["intValue"]), "3");
  EXPECT_EQ(double(attribute_value(attributes, "tollway.cost_usd")["doubleValue"]), 0.1);
  EXPECT_EQ(bool(attribute_value(attributes, "tollway.cached")["boolValue"]), true);

  element event = s["events"].at(0);
  EXPECT_EQ(str(event["name"]), "retry");
  EXPECT_EQ(str(event["timeUnixNano"]), "1700000000200000000");
  EXPECT_EQ(str(attribute_value(event["attributes"], "attempt")["intValue"]), "2");

  element r = ss["spans"].at(1);
  EXPECT_EQ(integer(r["kind"]), 3);
  EXPECT_EQ(integer(r["status"]["code"]), 0);
  EXPECT_EQ(integer(r["flags"]), 0);
  element missing;
  EXPECT_EQ(r["parentSpanId"].get(missing), simdjson::NO_SUCH_FIELD);  // a root has no parent id
  EXPECT_EQ(r["events"].get(missing), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(str(r["startTimeUnixNano"]), "0");

  // No snake_case key anywhere.
  EXPECT_EQ(json.find("_unix_nano"), std::string::npos);
  EXPECT_EQ(json.find("trace_id"), std::string::npos);
  EXPECT_EQ(json.find("resource_spans"), std::string::npos);
}

TEST(OtlpTraceJson, EmptyBatchAndHostileStringsStayValidJson) {
  Resource resource;
  resource.attributes.set("service.name", std::string_view("a\0b\x80\"\\", 6));
  InstrumentationScope scope;
  const std::string empty = encode_trace_export_request(resource, scope, {});
  Decoded d(empty);
  EXPECT_EQ(d.root["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].get_array().size(), 0u);
  Span s;
  s.name = "\x01\x7f\xff";
  s.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  s.attributes.set("inf", -std::numeric_limits<double>::infinity());
  std::vector<Span> spans = {s};
  Decoded e(encode_trace_export_request(resource, scope, spans));
  element attrs = e.root["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].at(0)["attributes"];
  EXPECT_EQ(str(attribute_value(attrs, "nan")["doubleValue"]), "NaN");
  EXPECT_EQ(str(attribute_value(attrs, "inf")["doubleValue"]), "-Infinity");
}

TEST(OtlpMetricsJson, EncodesSumGaugeAndHistogram) {
  Resource resource = Resource::for_service("tollway", "", "");
  InstrumentationScope scope{"tollway", ""};
  std::vector<Metric> metrics;

  Metric requests{"tollway.requests", "Requests by status class", "{request}", SumData{}};
  auto& sum = std::get<SumData>(requests.data);
  NumberPoint p;
  p.attributes.set("status_class", "2xx");
  p.start_unix_nano = 1'000;
  p.time_unix_nano = 2'000;
  p.value = int64_t{9'223'372'036'854'775'807LL};
  sum.points.push_back(p);
  sum.temporality = AggregationTemporality::Cumulative;
  sum.monotonic = true;
  metrics.push_back(requests);

  Metric budget{"tollway.budget.remaining", "", "USD", GaugeData{}};
  NumberPoint g;
  g.value = 12.5;
  std::get<GaugeData>(budget.data).points.push_back(g);
  metrics.push_back(budget);

  Metric tokens{"gen_ai.client.token.usage", "Number of input and output tokens used.", "{token}", HistogramData{}};
  HistogramPoint h;
  h.attributes.set("gen_ai.token.type", "input");
  h.start_unix_nano = 5;
  h.time_unix_nano = 6;
  h.count = 4;
  h.sum = 300.5;
  h.explicit_bounds = {1, 4, 16};
  h.bucket_counts = {1, 0, 2, 1};
  h.min = 1;
  h.max = 200.5;
  ASSERT_TRUE(h.consistent());
  auto& hist = std::get<HistogramData>(tokens.data);
  hist.points.push_back(h);
  hist.temporality = AggregationTemporality::Delta;
  metrics.push_back(tokens);

  const std::string json = encode_metrics_export_request(resource, scope, metrics);
  Decoded d(json);
  element list = d.root["resourceMetrics"].at(0)["scopeMetrics"].at(0)["metrics"];
  ASSERT_EQ(list.get_array().size(), 3u);

  element m0 = list.at(0);
  EXPECT_EQ(str(m0["name"]), "tollway.requests");
  EXPECT_EQ(str(m0["unit"]), "{request}");
  EXPECT_EQ(integer(m0["sum"]["aggregationTemporality"]), 2);
  EXPECT_EQ(bool(m0["sum"]["isMonotonic"]), true);
  element dp = m0["sum"]["dataPoints"].at(0);
  EXPECT_EQ(str(dp["asInt"]), "9223372036854775807");
  EXPECT_EQ(str(dp["startTimeUnixNano"]), "1000");
  EXPECT_EQ(str(dp["timeUnixNano"]), "2000");
  EXPECT_EQ(str(attribute_value(dp["attributes"], "status_class")["stringValue"]), "2xx");

  element m1 = list.at(1);
  element missing;
  EXPECT_EQ(m1["description"].get(missing), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(double(m1["gauge"]["dataPoints"].at(0)["asDouble"]), 12.5);
  EXPECT_EQ(m1["sum"].get(missing), simdjson::NO_SUCH_FIELD);

  element m2 = list.at(2);
  EXPECT_EQ(integer(m2["histogram"]["aggregationTemporality"]), 1);
  element hp = m2["histogram"]["dataPoints"].at(0);
  EXPECT_EQ(str(hp["count"]), "4");
  EXPECT_EQ(double(hp["sum"]), 300.5);
  EXPECT_EQ(double(hp["min"]), 1.0);
  EXPECT_EQ(double(hp["max"]), 200.5);
  std::vector<std::string> counts;
  for (element c : hp["bucketCounts"].get_array()) counts.emplace_back(str(c));
  EXPECT_EQ(counts, (std::vector<std::string>{"1", "0", "2", "1"}));
  std::vector<double> bounds;
  for (element b : hp["explicitBounds"].get_array()) {
    EXPECT_TRUE(b.is_number());
    bounds.push_back(double(b));
  }
  EXPECT_EQ(bounds, (std::vector<double>{1, 4, 16}));
}

TEST(OtlpMetricsJson, DoublesRoundTripExactly) {
  Metric m{"x", "", "", GaugeData{}};
  for (double v : {0.1, 1e-300, 123456789.123456789, -0.0, 1e21}) {
    NumberPoint p;
    p.value = v;
    std::get<GaugeData>(m.data).points.push_back(p);
  }
  std::vector<Metric> metrics = {m};
  Decoded d(encode_metrics_export_request(Resource{}, InstrumentationScope{}, metrics));
  element points = d.root["resourceMetrics"].at(0)["scopeMetrics"].at(0)["metrics"].at(0)["gauge"]["dataPoints"];
  std::size_t i = 0;
  for (element p : points.get_array()) {
    EXPECT_EQ(double(p["asDouble"]), std::get<double>(std::get<GaugeData>(m.data).points[i].value));
    ++i;
  }
  EXPECT_EQ(i, 5u);
}

TEST(HistogramPoint, ConsistencyRules) {
  HistogramPoint h;
  h.explicit_bounds = {1, 2};
  h.bucket_counts = {1, 1, 1};
  h.count = 3;
  EXPECT_TRUE(h.consistent());
  h.count = 4;
  EXPECT_FALSE(h.consistent());
  h.count = 3;
  h.explicit_bounds = {2, 1};
  EXPECT_FALSE(h.consistent());
  h.explicit_bounds = {1};
  EXPECT_FALSE(h.consistent());
}

TEST(OtlpExportResponse, DetectsPartialSuccess) {
  auto r = parse_export_response(R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad span"}})");
  EXPECT_TRUE(r.partial_success);
  EXPECT_EQ(r.rejected, 3);
  EXPECT_EQ(r.error_message, "bad span");
  r = parse_export_response(R"({"partialSuccess":{"rejectedDataPoints":7}})");
  EXPECT_TRUE(r.partial_success);
  EXPECT_EQ(r.rejected, 7);
  r = parse_export_response(R"({"partialSuccess":{"rejectedSpans":"0","errorMessage":"warning: old schema"}})");
  EXPECT_TRUE(r.partial_success);  // populated with a warning: still never retried
  EXPECT_EQ(r.rejected, 0);
  r = parse_export_response(R"({"partialSuccess":{}})");
  EXPECT_FALSE(r.partial_success);
  r = parse_export_response("{}");
  EXPECT_FALSE(r.partial_success);
  EXPECT_FALSE(r.malformed);
  r = parse_export_response("");
  EXPECT_TRUE(r.malformed);
  EXPECT_FALSE(r.partial_success);
  r = parse_export_response("[1]");
  EXPECT_TRUE(r.malformed);
}

}  // namespace
}  // namespace tollway::telemetry
