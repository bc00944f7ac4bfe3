// StrictJson: a small JSON reader for security-relevant documents (JOSE headers, JWT claim sets, JWKS, admin
// request bodies). Unlike a tolerant parser it rejects anything ambiguous: duplicate object keys at any
// depth, trailing bytes, invalid UTF-8, lone surrogates, leading zeros, nesting deeper than a fixed bound.
// Pure: no I/O, no allocation beyond the returned tree; it never echoes input bytes in its error messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollway::core::strict_json {

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Value>;

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  // True when the number is an integer that fits int64 exactly (no fraction, no exponent overflow).
  bool is_integer() const { return kind_ == Kind::Number && integer_; }
  int64_t as_int() const { return int_; }
  const std::string& as_string() const { return string_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }

  // Object member by key; null when absent or when this is not an object.
  const Value* find(std::string_view key) const;
  // Convenience: the member's string, or nullopt when absent or not a string.
  std::optional<std::string_view> string_member(std::string_view key) const;
  // Where this value's text is in the parsed document: bytes [begin, end) (for splicing edits into it).
  std::size_t begin() const { return begin_; }
  std::size_t end() const { return end_; }

  static Value make_null() { return Value(Kind::Null); }
  static Value make_bool(bool b) {
    Value v(Kind::Bool);
    v.bool_ = b;
    return v;
  }
  static Value make_string(std::string s) {
    Value v(Kind::String);
    v.string_ = std::move(s);
    return v;
  }
  static Value make_number(double d, bool integer, int64_t i) {
    Value v(Kind::Number);
    v.number_ = d;
    v.integer_ = integer;
    v.int_ = i;
    return v;
  }
  static Value make_array(std::vector<Value> items) {
    Value v(Kind::Array);
    v.items_ = std::move(items);
    return v;
  }
  static Value make_object(std::vector<Member> m) {
    Value v(Kind::Object);
    v.members_ = std::move(m);
    return v;
  }

  Value() = default;

 private:
  explicit Value(Kind k) : kind_(k) {}
  friend class Reader;
  Kind kind_ = Kind::Null;
  std::size_t begin_ = 0, end_ = 0;
  bool bool_ = false;
  bool integer_ = false;
  double number_ = 0;
  int64_t int_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseLimits {
  std::size_t max_bytes = 64 * 1024;
  int max_depth = 16;
};

// Parses one JSON text (RFC 8259) strictly. On failure returns nullopt and sets `error` to a description that
// names the problem and its byte offset, never the bytes themselves.
std::optional<Value> parse(std::string_view text, std::string& error, const ParseLimits& limits = {});

}  // namespace tollway::core::strict_json
