// Minimal JSON text writer for the bodies and log lines tollway produces itself (errors, /config, logs).
// It only writes; it never parses (simdjson does that) and never emits invalid JSON for any input string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::json {

// Appends `s` as a quoted JSON string, escaping quotes, backslashes, control bytes and invalid UTF-8 (as U+FFFD).
void append_quoted(std::string& out, std::string_view s);
// The same without the quotes: for a string value written in several pieces.
void append_escaped(std::string& out, std::string_view s);
std::string quoted(std::string_view s);

// Builds one JSON object: ObjectWriter w; w.field("a", "x").field("n", 3); w.finish() -> {"a":"x","n":3}
// In appending mode (constructed on a caller's string) it writes straight into that string instead, which lets a
// hot path build lines without a buffer per object: ObjectWriter w(line); w.field("a", 1); w.close();
class ObjectWriter {
 public:
  ObjectWriter() : text_(&owned_) {
    owned_.reserve(256);  // a typical log line without regrowing
    owned_.push_back('{');
  }
  explicit ObjectWriter(std::string& out);  // appending mode
  ObjectWriter(const ObjectWriter&) = delete;  // text_ may point at owned_
  ObjectWriter& operator=(const ObjectWriter&) = delete;
  ObjectWriter& field(std::string_view key, std::string_view value);
  ObjectWriter& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  ObjectWriter& field(std::string_view key, int64_t value);
  ObjectWriter& field(std::string_view key, uint64_t value);
  ObjectWriter& field(std::string_view key, int value) { return field(key, static_cast<int64_t>(value)); }
  ObjectWriter& field(std::string_view key, double value);
  ObjectWriter& field(std::string_view key, bool value);
  ObjectWriter& null_field(std::string_view key);
  ObjectWriter& raw_field(std::string_view key, std::string_view json_value);  // value already JSON
  // Writes `"key":` and returns the buffer: the caller appends the value (e.g. a nested appending-mode writer).
  std::string& nested(std::string_view key);
  std::string finish() &&;                    // own buffer: the object's text
  void close() { text_->push_back('}'); }     // appending mode: ends the object
  // The fields written so far without braces, for embedding in another object.
  std::string_view fields() const { return std::string_view(*text_).substr(start_ + 1); }

 private:
  void key(std::string_view k);
  std::string owned_;
  std::string* text_;
  std::size_t start_ = 0;  // where this object's '{' is in *text_
};

}  // namespace tollway::json
