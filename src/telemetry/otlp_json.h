// OTLP/HTTP JSON encoding (opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding"): the frame of an
// ExportTraceServiceRequest (the spans inside it come from span_json.h), sums/gauges/histograms as an
// ExportMetricsServiceRequest, and the reading of an export response's partialSuccess. Follows the proto3 JSON mapping with OTLP's deviations: lowerCamelCase keys,
// trace/span ids as lowercase hex (not base64), enums as integers, 64-bit integers as decimal strings.
// Pure: never does I/O, never emits invalid JSON (strings go through core/json.h's escaping).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "telemetry/attributes.h"

namespace tollway::telemetry {

// OTLP AggregationTemporality numbering.
enum class AggregationTemporality : int { Delta = 1, Cumulative = 2 };

struct NumberPoint {
  AttributeList attributes;
  uint64_t start_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  std::variant<int64_t, double> value;  // asInt / asDouble
};

// Explicit-bucket histogram point. bucket_counts has explicit_bounds.size() + 1 entries (the last is the
// overflow bucket), counts per bucket (not cumulative), bounds strictly increasing.
struct HistogramPoint {
  AttributeList attributes;
  uint64_t start_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> bucket_counts;
  std::vector<double> explicit_bounds;
  std::optional<double> min, max;
  bool consistent() const;  // the shape rules above, and count == sum of bucket_counts
};

struct SumData {
  std::vector<NumberPoint> points;
  AggregationTemporality temporality = AggregationTemporality::Cumulative;
  bool monotonic = true;
};
struct GaugeData {
  std::vector<NumberPoint> points;
};
struct HistogramData {
  std::vector<HistogramPoint> points;
  AggregationTemporality temporality = AggregationTemporality::Cumulative;
};

struct Metric {
  std::string name;
  std::string description;
  std::string unit;  // UCUM, e.g. "s", "{token}"
  std::variant<SumData, GaugeData, HistogramData> data;
};

// An ExportTraceServiceRequest is trace_request_prefix() + spans (JSON Span objects separated by ',', see
// span_json.h) + kTraceRequestSuffix: {"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},
// "spans":[ ... ]}]}]}. The prefix is written once per process; each batch copies it.
std::string trace_request_prefix(const Resource& resource, const InstrumentationScope& scope);
inline constexpr std::string_view kTraceRequestSuffix = "]}]}]}";

// {"resourceMetrics":[{"resource":{...},"scopeMetrics":[{"scope":{...},"metrics":[...]}]}]}
std::string encode_metrics_export_request(const Resource& resource, const InstrumentationScope& scope,
                                          std::span<const Metric> metrics);

// What a 2xx export response body says. OTLP: the client MUST NOT retry when partialSuccess is populated
// (rejected count > 0 or an error message); a body that is not JSON still means the data was accepted.
struct ExportResponse {
  bool partial_success = false;
  int64_t rejected = 0;  // rejectedSpans / rejectedDataPoints / rejectedLogRecords
  std::string error_message;
  bool malformed = false;  // the body was not a JSON object
};
ExportResponse parse_export_response(std::string_view body);

}  // namespace tollway::telemetry
