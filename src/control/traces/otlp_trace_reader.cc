#include "control/traces/otlp_trace_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/strict_json.h"

namespace tollway::control::traces {
namespace {

using core::strict_json::Value;

// AnyValue and KeyValue lists may nest (arrayValue, kvlistValue); the frame itself is 8 deep.
constexpr int kMaxDepth = 64;

// The first error of a request: where, and what was expected there.
class Failure {
 public:
  explicit Failure(std::string& error) : error_(error) {}
  bool operator()(const std::string& path, std::string_view field, std::string_view expected) {
    error_ = path;
    if (!field.empty()) error_ += (path.empty() ? "" : ".") + std::string(field);
    error_ += error_.empty() ? "the body: " : ": ";
    error_ += expected;
    return false;
  }

 private:
  std::string& error_;
};

std::string item_path(const std::string& path, std::string_view field, std::size_t index) {
  return (path.empty() ? "" : path + ".") + std::string(field) + "[" + std::to_string(index) + "]";
}

// A member that must be an array when present; null when absent (proto3: an empty repeated field).
const Value* array_member(const Value& object, std::string_view field, const std::string& path, Failure& fail,
                          bool& ok) {
  const Value* v = object.find(field);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_array()) ok = fail(path, field, "expected an array");
  return ok ? v : nullptr;
}

// Lowercase copy of a case-insensitive hex id (the OTLP JSON encoding's ids); "" when not all hex.
std::string lower_hex(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return out;
}

// fixed64 / int64 as the proto3 JSON mapping allows them: a decimal string or a JSON integer.
std::optional<uint64_t> read_uint64(const Value& v) {
  if (v.is_integer()) return v.as_int() < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v.as_int()));
  if (!v.is_string() || v.as_string().empty()) return std::nullopt;
  const std::string& s = v.as_string();
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}
std::optional<int64_t> read_int64(const Value& v) {
  if (v.is_integer()) return v.as_int();
  if (!v.is_string() || v.as_string().empty()) return std::nullopt;
  const std::string& s = v.as_string();
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// An enum as the proto3 JSON mapping allows it: its number or its name.
template <std::size_t N>
std::optional<int> read_enum(const Value& v, const std::array<std::string_view, N>& names) {
  if (v.is_integer()) return v.as_int() >= 0 && v.as_int() < static_cast<int64_t>(N) ? std::optional<int>(static_cast<int>(v.as_int()))
                                                                                     : std::nullopt;
  if (!v.is_string()) return std::nullopt;
  const auto it = std::find(names.begin(), names.end(), v.as_string());
  return it == names.end() ? std::nullopt : std::optional<int>(static_cast<int>(it - names.begin()));
}
constexpr std::array<std::string_view, 6> kSpanKindNames{"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                         "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                         "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
constexpr std::array<std::string_view, 3> kStatusCodeNames{"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                           "STATUS_CODE_ERROR"};

bool check_key_values(const Value& list, const std::string& path, Failure& fail, int depth);

// An AnyValue: an object with at most one of the value fields, each of its type.
bool check_any_value(const Value& v, const std::string& path, Failure& fail, int depth) {
  if (depth > kMaxDepth) return fail(path, "", "values nest too deep");
  if (!v.is_object()) return fail(path, "", "expected an AnyValue object");
  int fields = 0;
  for (const auto& [key, member] : v.members()) {
    if (member.is_null()) continue;
    if (key == "stringValue" || key == "bytesValue") {
      if (!member.is_string()) return fail(path, key, "expected a string");
    } else if (key == "boolValue") {
      if (!member.is_bool()) return fail(path, key, "expected true or false");
    } else if (key == "intValue") {
      if (!read_int64(member)) return fail(path, key, "expected an int64 (a decimal string or an integer)");
    } else if (key == "doubleValue") {
      const bool special = member.is_string() && (member.as_string() == "NaN" || member.as_string() == "Infinity" ||
                                                  member.as_string() == "-Infinity");
      if (!member.is_number() && !special) return fail(path, key, "expected a number");
    } else if (key == "arrayValue" || key == "kvlistValue") {
      if (!member.is_object()) return fail(path, key, "expected an object {values: [...]}");
      const std::string inner = path + "." + key;
      const Value* values = member.find("values");
      if (values == nullptr || values->is_null()) {
        ++fields;
        continue;
      }
      if (!values->is_array()) return fail(inner, "values", "expected an array");
      if (key == "kvlistValue") {
        if (!check_key_values(*values, inner + ".values", fail, depth + 1)) return false;
      } else {
        for (std::size_t i = 0; i < values->items().size(); ++i)
          if (!check_any_value(values->items()[i], item_path(inner, "values", i), fail, depth + 1)) return false;
      }
    } else {
      continue;  // an unknown field
    }
    ++fields;
  }
  if (fields > 1) return fail(path, "", "expected at most one of stringValue, boolValue, intValue, doubleValue, "
                                        "arrayValue, kvlistValue, bytesValue");
  return true;
}

// A list of KeyValue {key, value}.
bool check_key_values(const Value& list, const std::string& path, Failure& fail, int depth) {
  for (std::size_t i = 0; i < list.items().size(); ++i) {
    const Value& kv = list.items()[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!kv.is_object()) return fail(at, "", "expected a KeyValue object {key, value}");
    const Value* key = kv.find("key");
    if (key == nullptr || !key->is_string()) return fail(at, "key", "expected a string");
    const Value* value = kv.find("value");
    if (value != nullptr && !value->is_null() && !check_any_value(*value, at + ".value", fail, depth + 1))
      return false;
  }
  return true;
}

// The checked `attributes` list of `object` (null when absent); `ok` false on a bad shape.
const Value* attributes_of(const Value& object, const std::string& path, Failure& fail, bool& ok) {
  const Value* list = array_member(object, "attributes", path, fail, ok);
  if (list != nullptr && !check_key_values(*list, path + ".attributes", fail, 1)) ok = false;
  return ok ? list : nullptr;
}

// The value of attribute `key` in a checked list when it has field `field` ("stringValue", ...); null otherwise.
const Value* attribute(const Value* list, std::string_view key, std::string_view field) {
  if (list == nullptr) return nullptr;
  for (const Value& kv : list->items()) {
    if (kv.find("key")->as_string() != key) continue;
    const Value* value = kv.find("value");
    return value == nullptr ? nullptr : value->find(field);
  }
  return nullptr;
}

// The tollway attributes the window keeps; values of another type than ours are not ours and are left out.
void read_span_attributes(const Value* list, WindowSpan& span) {
  if (const Value* v = attribute(list, "tollway.trace.orphan", "boolValue"); v && v->is_bool())
    span.orphan = v->as_bool();
  if (const Value* v = attribute(list, "tollway.trace.repaired", "boolValue"); v && v->is_bool())
    span.repaired = v->as_bool();
  if (const Value* v = attribute(list, "tollway.peer", "stringValue"); v && v->is_string()) span.peer = v->as_string();
  if (const Value* v = attribute(list, "tollway.hops", "intValue")) {
    const auto n = read_int64(*v);
    if (n && *n > 0 && *n <= std::numeric_limits<uint32_t>::max()) span.tollway_hops = static_cast<uint32_t>(*n);
  }
  const Value* input = attribute(list, "gen_ai.usage.input_tokens", "intValue");
  const Value* output = attribute(list, "gen_ai.usage.output_tokens", "intValue");
  const auto in = input ? read_int64(*input) : std::nullopt;
  const auto out = output ? read_int64(*output) : std::nullopt;
  constexpr int64_t kMaxTokens = std::numeric_limits<uint32_t>::max();
  if (in && out && *in >= 0 && *out >= 0 && *in <= kMaxTokens && *out <= kMaxTokens) {
    span.has_usage = true;
    span.input_tokens = static_cast<uint32_t>(*in);
    span.output_tokens = static_cast<uint32_t>(*out);
  }
  if (const Value* v = attribute(list, "mcp.method.name", "stringValue"); v && v->is_string())
    span.protocol = RpcProtocol::Mcp;
  else if (const Value* r = attribute(list, "rpc.method", "stringValue"); r && r->is_string())
    span.protocol = RpcProtocol::A2a;
  if (const Value* v = attribute(list, "http.response.status_code", "intValue")) {
    const auto n = read_int64(*v);
    if (n && *n >= 100 && *n <= 999) span.http_status = static_cast<uint16_t>(*n);
  }
}

bool read_span(const Value& s, const std::string& path, const std::shared_ptr<const std::string>& service,
               bool tollway, Failure& fail, std::vector<ReceivedSpan>& out) {
  if (!s.is_object()) return fail(path, "", "expected a Span object");
  ReceivedSpan r;
  const Value* trace_id = s.find("traceId");
  const auto trace = trace_id && trace_id->is_string() ? telemetry::TraceId::from_hex(lower_hex(trace_id->as_string()))
                                                       : std::nullopt;
  if (!trace) return fail(path, "traceId", "expected 32 hex digits, not all zero");
  r.trace_id = *trace;
  const Value* span_id = s.find("spanId");
  const auto span = span_id && span_id->is_string() ? telemetry::SpanId::from_hex(lower_hex(span_id->as_string()))
                                                    : std::nullopt;
  if (!span) return fail(path, "spanId", "expected 16 hex digits, not all zero");
  r.span.span_id = *span;
  if (const Value* parent = s.find("parentSpanId"); parent && !parent->is_null()) {
    if (!parent->is_string()) return fail(path, "parentSpanId", "expected a string of 16 hex digits, or \"\"");
    if (!parent->as_string().empty()) {
      const auto id = telemetry::SpanId::from_hex(lower_hex(parent->as_string()));
      if (!id) return fail(path, "parentSpanId", "expected 16 hex digits, not all zero, or \"\" for a root span");
      r.span.parent_span_id = *id;
    }
  }
  if (const Value* name = s.find("name"); name && !name->is_null()) {
    if (!name->is_string()) return fail(path, "name", "expected a string");
    r.span.name = name->as_string();
  }
  if (const Value* kind = s.find("kind"); kind && !kind->is_null()) {
    const auto k = read_enum(*kind, kSpanKindNames);
    if (!k) return fail(path, "kind", "expected a SpanKind, 0 to 5 or its name");
    r.span.kind = static_cast<SpanKind>(*k);
  }
  const Value* start = s.find("startTimeUnixNano");
  const auto start_ns = start ? read_uint64(*start) : std::nullopt;
  if (!start_ns || *start_ns == 0)
    return fail(path, "startTimeUnixNano", "expected a positive fixed64 (a decimal string or an integer)");
  const Value* end = s.find("endTimeUnixNano");
  const auto end_ns = end ? read_uint64(*end) : std::nullopt;
  if (!end_ns || *end_ns < *start_ns)
    return fail(path, "endTimeUnixNano", "expected a fixed64 (a decimal string or an integer) not before startTimeUnixNano");
  r.span.start_unix_nano = *start_ns;
  r.span.end_unix_nano = *end_ns;
  if (const Value* status = s.find("status"); status && !status->is_null()) {
    if (!status->is_object()) return fail(path, "status", "expected a Status object {code, message}");
    if (const Value* code = status->find("code"); code && !code->is_null()) {
      const auto c = read_enum(*code, kStatusCodeNames);
      if (!c) return fail(path + ".status", "code", "expected a StatusCode, 0 to 2 or its name");
      r.span.status = static_cast<StatusCode>(*c);
    }
    if (const Value* message = status->find("message"); message && !message->is_null()) {
      if (!message->is_string()) return fail(path + ".status", "message", "expected a string");
      r.span.status_message = message->as_string();
    }
  }
  bool ok = true;
  const Value* attributes = attributes_of(s, path, fail, ok);
  if (!ok) return false;
  read_span_attributes(attributes, r.span);
  r.span.service = service;
  r.span.tollway = tollway;
  out.push_back(std::move(r));
  return true;
}

bool read_resource_spans(const Value& rs, const std::string& path, Failure& fail, std::vector<ReceivedSpan>& out) {
  if (!rs.is_object()) return fail(path, "", "expected a ResourceSpans object");
  std::string service_name;
  if (const Value* resource = rs.find("resource"); resource && !resource->is_null()) {
    if (!resource->is_object()) return fail(path, "resource", "expected a Resource object {attributes}");
    bool ok = true;
    const Value* attributes = attributes_of(*resource, path + ".resource", fail, ok);
    if (!ok) return false;
    if (const Value* name = attribute(attributes, "service.name", "stringValue"); name && name->is_string())
      service_name = name->as_string();
  }
  const auto service = std::make_shared<const std::string>(std::move(service_name));
  bool ok = true;
  const Value* scopes = array_member(rs, "scopeSpans", path, fail, ok);
  if (!ok) return false;
  if (scopes == nullptr) return true;
  for (std::size_t i = 0; i < scopes->items().size(); ++i) {
    const Value& scope = scopes->items()[i];
    const std::string scope_path = item_path(path, "scopeSpans", i);
    if (!scope.is_object()) return fail(scope_path, "", "expected a ScopeSpans object");
    const Value* spans = array_member(scope, "spans", scope_path, fail, ok);
    if (!ok) return false;
    if (spans == nullptr) continue;
    // Our nodes' exporters name their scope "tollway" (telemetry/telemetry_output.cc).
    const Value* scope_object = scope.find("scope");
    const bool tollway = scope_object != nullptr && scope_object->is_object() &&
                         scope_object->string_member("name").value_or("") == "tollway";
    for (std::size_t j = 0; j < spans->items().size(); ++j)
      if (!read_span(spans->items()[j], item_path(scope_path, "spans", j), service, tollway, fail, out)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::vector<ReceivedSpan>> read_otlp_traces(std::string_view json, std::string& error) {
  core::strict_json::ParseLimits limits;
  limits.max_bytes = kMaxOtlpJsonBytes;
  limits.max_depth = kMaxDepth + 16;
  std::string parse_error;
  const auto root = core::strict_json::parse(json, parse_error, limits);
  if (!root) {
    error = "not JSON: " + parse_error;
    return std::nullopt;
  }
  Failure fail(error);
  if (!root->is_object()) {
    fail("", "", "expected an ExportTraceServiceRequest object {resourceSpans: [...]}");
    return std::nullopt;
  }
  bool ok = true;
  const Value* resource_spans = array_member(*root, "resourceSpans", "", fail, ok);
  if (!ok) return std::nullopt;
  std::vector<ReceivedSpan> spans;
  if (resource_spans == nullptr) return spans;
  for (std::size_t i = 0; i < resource_spans->items().size(); ++i)
    if (!read_resource_spans(resource_spans->items()[i], item_path("", "resourceSpans", i), fail, spans))
      return std::nullopt;
  return spans;
}

}  // namespace tollway::control::traces
