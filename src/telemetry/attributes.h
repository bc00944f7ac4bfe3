// OTLP attributes, resource and instrumentation scope as plain values, for the encoders in otlp_json.h (metric
// points, the resource of every export). Holds data only: never exports or reads a clock. Attribute values are
// the OTLP scalar types (string, int64, double, bool). Spans are not built from these: span_json.h writes them
// straight from a request's record.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tollway::telemetry {

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
