// Reading OTLP JSON back in tests: decode with simdjson and check each field's JSON type (ids as lowercase
// hex, enums as integers, 64-bit integers as strings), so tests assert on decoded values, never on matched
// substrings.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::telemetry::otlp_decode {

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

inline bool is_lower_hex(std::string_view s, std::size_t length) {
  if (s.size() != length) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

inline std::string_view str(element e) {
  std::string_view s;
  EXPECT_EQ(e.get_string().get(s), simdjson::SUCCESS) << "not a string";
  return s;
}

inline int64_t integer(element e) {
  EXPECT_EQ(e.type(), element_type::INT64) << "not an integer";
  return int64_t(e);
}

inline bool has_attribute(element attributes, std::string_view key) {
  for (element kv : attributes.get_array())
    if (str(kv["key"]) == key) return true;
  return false;
}

// The value of attribute `key` in an OTLP attributes array, or a null element.
inline element attribute_value(element attributes, std::string_view key) {
  for (element kv : attributes.get_array()) {
    if (str(kv["key"]) == key) return kv["value"];
  }
  ADD_FAILURE() << "attribute " << key << " missing";
  return element();
}

}  // namespace tollway::telemetry::otlp_decode
