// JsonSyntaxError: says where a JSON text breaks (byte offset, line, column, what was expected), so that a
// rejected request body's 400 points at the problem. It only explains a rejection: it never decides whether a
// body is accepted (simdjson does) and never allocates per byte or recurses deeper than kMaxJsonDepth.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::core {

inline constexpr std::size_t kMaxJsonDepth = 1024;

struct JsonSyntaxError {
  std::size_t offset = 0;  // bytes from the start of the text
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
  std::string what;        // e.g. "expected ':' after an object key"
  // "byte 17 (line 2, column 5): expected ':' after an object key"
  std::string to_string() const;
};

// The first syntax error of `text` as one JSON value (RFC 8259, with surrounding whitespace), or nullopt when
// the text is well-formed.
std::optional<JsonSyntaxError> find_json_syntax_error(std::string_view text);

}  // namespace tollway::core
