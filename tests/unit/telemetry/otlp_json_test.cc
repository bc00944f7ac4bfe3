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

#include "otlp_decode.h"

namespace tollway::telemetry {
namespace {

using otlp_decode::attribute_value;
using otlp_decode::Decoded;
using otlp_decode::integer;
using otlp_decode::str;
using simdjson::dom::element;

TEST(OtlpTraceJson, FrameHoldsResourceScopeAndTheSpans) {
  Resource resource = Resource::for_service("tollway", "0.1.0", "host-1");
  InstrumentationScope scope{"tollway.gateway", "0.1.0"};
  const std::string empty = trace_request_prefix(resource, scope) + std::string(kTraceRequestSuffix);
  Decoded d(empty);
  element rs = d.root["resourceSpans"].at(0);
  EXPECT_EQ(str(attribute_value(rs["resource"]["attributes"], "service.name")["stringValue"]), "tollway");
  EXPECT_EQ(str(attribute_value(rs["resource"]["attributes"], "service.instance.id")["stringValue"]), "host-1");
  element ss = rs["scopeSpans"].at(0);
  EXPECT_EQ(str(ss["scope"]["name"]), "tollway.gateway");
  EXPECT_EQ(str(ss["scope"]["version"]), "0.1.0");
  EXPECT_EQ(ss["spans"].get_array().size(), 0u);
  // Spans go between the two halves.
  Decoded two(trace_request_prefix(resource, scope) + R"({"name":"a"},{"name":"b"})" + std::string(kTraceRequestSuffix));
  EXPECT_EQ(str(two.root["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].at(1)["name"]), "b");
}

TEST(OtlpTraceJson, HostileResourceStringsStayValidJson) {
  Resource resource;
  resource.attributes.set("service.name", std::string_view("a\0b\x80\"\\", 6));
  resource.attributes.set("nan", std::numeric_limits<double>::quiet_NaN());
  resource.attributes.set("inf", -std::numeric_limits<double>::infinity());
  Decoded d(trace_request_prefix(resource, {}) + std::string(kTraceRequestSuffix));
  element attrs = d.root["resourceSpans"].at(0)["resource"]["attributes"];
  EXPECT_EQ(str(attribute_value(attrs, "service.name")["stringValue"]), std::string_view("a\0b\xEF\xBF\xBD\"\\", 8));
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
