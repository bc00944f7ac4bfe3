// Minimal JSON text writer for the bodies and log lines tollway produces itself (errors, /config, logs).
// It only writes; it never parses (simdjson does that) and never emits invalid JSON for any input string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::json {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes, control bytes and invalid UTF-8 (as U+FFFD).
void append_quoted(std::string& out, std::string_view s);
// The same without the quotes, written at `out`, which must have room for 6 * s.size() bytes (the longest
// escape, \u00XX, is six bytes for one); returns the end of what was written.
char* escape_to(char* out, std::string_view s);
std::string quoted(std::string_view s);

// Builds one JSON object: ObjectWriter w; w.field("a", "x").field("n", 3); w.finish() -> {"a":"x","n":3}
class ObjectWriter {
 public:
  ObjectWriter() {
    text_.reserve(256);  // a typical log line without regrowing
    text_.push_back('{');
  }
  ObjectWriter& field(std::string_view key, std::string_view value);
  ObjectWriter& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  ObjectWriter& field(std::string_view key, int64_t value);
  ObjectWriter& field(std::string_view key, uint64_t value);
  ObjectWriter& field(std::string_view key, int value) { return field(key, static_cast<int64_t>(value)); }
  ObjectWriter& field(std::string_view key, double value);
  ObjectWriter& field(std::string_view key, bool value);
  ObjectWriter& null_field(std::string_view key);
  ObjectWriter& raw_field(std::string_view key, std::string_view json_value);  // value already JSON
  std::string finish() &&;
  // The fields written so far without braces, for embedding in another object.
  std::string_view fields() const { return std::string_view(text_).substr(1); }

 private:
  void key(std::string_view k);
  std::string text_;
};

}  // namespace tollway::json
