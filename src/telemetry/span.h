// Span model: a finished span and the resource that produced it, as plain values ready to be queued and encoded
// (otlp_json.h). Holds data only: never samples, exports, or reads a clock; whoever creates a span fills in its
// times. Attribute values are the OTLP scalar types (string, int64, double, bool).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "telemetry/trace_context.h"

namespace tollway::telemetry {

// OTLP Span.SpanKind numbering (the JSON encoding writes these integers).
enum class SpanKind : int { Internal = 1, Server = 2, Client = 3 };
// OTLP Status.StatusCode numbering.
enum class StatusCode : int { Unset = 0, Ok = 1, Error = 2 };

using AttributeValue = std::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
  bool operator==(const Attribute&) const = default;
};

// Appends or replaces (same key) one attribute. Overloads keep `"text"` a string and `42` an int64.
class AttributeList {
 public:
  void set(std::string_view key, std::string_view value) { put(key, std::string(value)); }
  void set(std::string_view key, const char* value) { put(key, std::string(value)); }
  void set(std::string_view key, double value) { put(key, value); }
  void set(std::string_view key, bool value) { put(key, value); }
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  void set(std::string_view key, I value) {
    put(key, static_cast<int64_t>(value));
  }
  void reserve(std::size_t n) { items_.reserve(n); }
  const Attribute* find(std::string_view key) const;
  const std::vector<Attribute>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  void put(std::string_view key, AttributeValue value);
  std::vector<Attribute> items_;
};

struct SpanEvent {
  std::string name;
  uint64_t time_unix_nano = 0;
  AttributeList attributes;
};

struct Span {
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;      // all-zero for a root span
  bool parent_is_remote = false;  // the parent came from an incoming traceparent
  uint8_t trace_flags = 0;    // W3C flags of this span's context (sampled bit)
  std::string trace_state;    // serialized tracestate of this span's context, "" if none
  std::string name;
  SpanKind kind = SpanKind::Internal;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  StatusCode status_code = StatusCode::Unset;
  std::string status_message;  // only meaningful with StatusCode::Error
  AttributeList attributes;
  std::vector<SpanEvent> events;

  // Identity fields copied from a context: trace id, span id, flags, tracestate.
  void set_context(const SpanContext& context);
  void set_parent(const SpanContext& parent);
};

// The entity producing telemetry (OTLP Resource), e.g. service.name, service.version, service.instance.id.
struct Resource {
  AttributeList attributes;
  static Resource for_service(std::string_view name, std::string_view version, std::string_view instance_id);
};

// OTLP InstrumentationScope: the library that made the telemetry.
struct InstrumentationScope {
  std::string name = "tollway";
  std::string version;
};

}  // namespace tollway::telemetry
