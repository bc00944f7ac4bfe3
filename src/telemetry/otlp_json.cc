#include "telemetry/otlp_json.h"

#include <charconv>
#include <cmath>
#include <numeric>

#include <simdjson.h>

#include "core/json.h"

namespace tollway::telemetry {
namespace {

// Streaming JSON text for nested OTLP messages: tracks where commas go; strings use json::append_quoted.
class JsonText {
 public:
  explicit JsonText(std::string& out) : out_(out) {}
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k) {
    separate();
    json::append_quoted(out_, k);
    out_.push_back(':');
    after_key_ = true;
  }
  void string(std::string_view s) {
    before_value();
    json::append_quoted(out_, s);
  }
  // 64-bit integers are decimal strings in proto3 JSON.
  void int64_string(int64_t v) {
    before_value();
    out_.push_back('"');
    append_decimal(v);
    out_.push_back('"');
  }
  void uint64_string(uint64_t v) {
    before_value();
    out_.push_back('"');
    append_decimal(v);
    out_.push_back('"');
  }
  // 32-bit integers and enums are JSON numbers.
  void integer(int64_t v) {
    before_value();
    append_decimal(v);
  }
  void boolean(bool v) {
    before_value();
    out_ += v ? "true" : "false";
  }
  // Shortest round-trip text; proto3 JSON spells the non-finite values as strings.
  void number(double v) {
    before_value();
    if (std::isnan(v)) {
      out_ += "\"NaN\"";
    } else if (std::isinf(v)) {
      out_ += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      char buf[32];
      const auto res = std::to_chars(buf, buf + sizeof buf, v);
      out_.append(buf, res.ptr);
    }
  }

 private:
  void open(char c) {
    before_value();
    out_.push_back(c);
    first_.push_back(true);
  }
  void close(char c) {
    out_.push_back(c);
    first_.pop_back();
  }
  void separate() {
    if (!first_.empty()) {
      if (!first_.back()) out_.push_back(',');
      first_.back() = false;
    }
  }
  void before_value() {
    if (after_key_)
      after_key_ = false;
    else
      separate();
  }
  template <typename I>
  void append_decimal(I v) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, res.ptr);
  }
  std::string& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

void write_any_value(JsonText& j, const AttributeValue& value) {
  j.begin_object();
  if (const auto* s = std::get_if<std::string>(&value)) {
    j.key("stringValue");
    j.string(*s);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    j.key("intValue");
    j.int64_string(*i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    j.key("doubleValue");
    j.number(*d);
  } else {
    j.key("boolValue");
    j.boolean(std::get<bool>(value));
  }
  j.end_object();
}

void write_attributes(JsonText& j, const AttributeList& attributes) {
  j.key("attributes");
  j.begin_array();
  for (const auto& a : attributes.items()) {
    j.begin_object();
    j.key("key");
    j.string(a.key);
    j.key("value");
    write_any_value(j, a.value);
    j.end_object();
  }
  j.end_array();
}

void write_resource(JsonText& j, const Resource& resource) {
  j.key("resource");
  j.begin_object();
  write_attributes(j, resource.attributes);
  j.end_object();
}

void write_scope(JsonText& j, const InstrumentationScope& scope) {
  j.key("scope");
  j.begin_object();
  j.key("name");
  j.string(scope.name);
  if (!scope.version.empty()) {
    j.key("version");
    j.string(scope.version);
  }
  j.end_object();
}

void write_number_points(JsonText& j, const std::vector<NumberPoint>& points) {
  j.key("dataPoints");
  j.begin_array();
  for (const auto& p : points) {
    j.begin_object();
    write_attributes(j, p.attributes);
    j.key("startTimeUnixNano");
    j.uint64_string(p.start_unix_nano);
    j.key("timeUnixNano");
    j.uint64_string(p.time_unix_nano);
    if (const auto* i = std::get_if<int64_t>(&p.value)) {
      j.key("asInt");
      j.int64_string(*i);
    } else {
      j.key("asDouble");
      j.number(std::get<double>(p.value));
    }
    j.end_object();
  }
  j.end_array();
}

void write_histogram_points(JsonText& j, const std::vector<HistogramPoint>& points) {
  j.key("dataPoints");
  j.begin_array();
  for (const auto& p : points) {
    j.begin_object();
    write_attributes(j, p.attributes);
    j.key("startTimeUnixNano");
    j.uint64_string(p.start_unix_nano);
    j.key("timeUnixNano");
    j.uint64_string(p.time_unix_nano);
    j.key("count");
    j.uint64_string(p.count);
    j.key("sum");
    j.number(p.sum);
    j.key("bucketCounts");
    j.begin_array();
    for (uint64_t c : p.bucket_counts) j.uint64_string(c);
    j.end_array();
    j.key("explicitBounds");
    j.begin_array();
    for (double b : p.explicit_bounds) j.number(b);
    j.end_array();
    if (p.min) {
      j.key("min");
      j.number(*p.min);
    }
    if (p.max) {
      j.key("max");
      j.number(*p.max);
    }
    j.end_object();
  }
  j.end_array();
}

void write_metric(JsonText& j, const Metric& metric) {
  j.begin_object();
  j.key("name");
  j.string(metric.name);
  if (!metric.description.empty()) {
    j.key("description");
    j.string(metric.description);
  }
  if (!metric.unit.empty()) {
    j.key("unit");
    j.string(metric.unit);
  }
  if (const auto* sum = std::get_if<SumData>(&metric.data)) {
    j.key("sum");
    j.begin_object();
    write_number_points(j, sum->points);
    j.key("aggregationTemporality");
    j.integer(static_cast<int>(sum->temporality));
    j.key("isMonotonic");
    j.boolean(sum->monotonic);
    j.end_object();
  } else if (const auto* gauge = std::get_if<GaugeData>(&metric.data)) {
    j.key("gauge");
    j.begin_object();
    write_number_points(j, gauge->points);
    j.end_object();
  } else {
    const auto& histogram = std::get<HistogramData>(metric.data);
    j.key("histogram");
    j.begin_object();
    write_histogram_points(j, histogram.points);
    j.key("aggregationTemporality");
    j.integer(static_cast<int>(histogram.temporality));
    j.end_object();
  }
  j.end_object();
}

}  // namespace

bool HistogramPoint::consistent() const {
  if (bucket_counts.size() != explicit_bounds.size() + 1) return false;
  for (std::size_t i = 1; i < explicit_bounds.size(); ++i)
    if (!(explicit_bounds[i - 1] < explicit_bounds[i])) return false;
  return std::accumulate(bucket_counts.begin(), bucket_counts.end(), uint64_t{0}) == count;
}

std::string trace_request_prefix(const Resource& resource, const InstrumentationScope& scope) {
  std::string out;
  JsonText j(out);
  j.begin_object();
  j.key("resourceSpans");
  j.begin_array();
  j.begin_object();
  write_resource(j, resource);
  j.key("scopeSpans");
  j.begin_array();
  j.begin_object();
  write_scope(j, scope);
  j.key("spans");
  out.push_back('[');  // left open: the spans and kTraceRequestSuffix follow
  return out;
}

std::string encode_metrics_export_request(const Resource& resource, const InstrumentationScope& scope,
                                          std::span<const Metric> metrics) {
  std::string out;
  JsonText j(out);
  j.begin_object();
  j.key("resourceMetrics");
  j.begin_array();
  j.begin_object();
  write_resource(j, resource);
  j.key("scopeMetrics");
  j.begin_array();
  j.begin_object();
  write_scope(j, scope);
  j.key("metrics");
  j.begin_array();
  for (const auto& metric : metrics) write_metric(j, metric);
  j.end_array();
  j.end_object();
  j.end_array();
  j.end_object();
  j.end_array();
  j.end_object();
  return out;
}

ExportResponse parse_export_response(std::string_view body) {
  ExportResponse out;
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    out.malformed = true;
    return out;
  }
  simdjson::dom::object partial;
  if (root["partialSuccess"].get_object().get(partial) != simdjson::SUCCESS) return out;
  for (auto field : partial) {
    const std::string_view key = field.key;
    if (key.starts_with("rejected")) {
      // int64 fields: a decimal string by the JSON mapping, but decoders accept numbers too.
      int64_t n = 0;
      std::string_view text;
      if (field.value.get_int64().get(n) == simdjson::SUCCESS) {
        out.rejected = n;
      } else if (field.value.get_string().get(text) == simdjson::SUCCESS) {
        std::from_chars(text.data(), text.data() + text.size(), out.rejected);
      }
    } else if (key == "errorMessage") {
      std::string_view text;
      if (field.value.get_string().get(text) == simdjson::SUCCESS) out.error_message = std::string(text);
    }
  }
  out.partial_success = out.rejected > 0 || !out.error_message.empty();
  return out;
}

}  // namespace tollway::telemetry
