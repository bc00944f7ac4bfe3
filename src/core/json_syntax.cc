#include "core/json_syntax.h"

#include <cctype>
#include <vector>

namespace tollway::core {
namespace {

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  std::optional<JsonSyntaxError> scan() {
    skip_whitespace();
    if (!value()) return error_;
    skip_whitespace();
    if (pos_ == text_.size()) return std::nullopt;
    fail("unexpected bytes after the JSON value");
    return error_;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  bool fail(const char* what) {
    JsonSyntaxError e;
    e.offset = pos_;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++e.line;
        e.column = 1;
      } else {
        ++e.column;
      }
    }
    e.what = at_end() ? std::string(what) + " (the body ends here)" : what;
    error_ = std::move(e);
    return false;
  }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("expected a JSON value");
    pos_ += word.size();
    return true;
  }

  bool string() {
    ++pos_;  // the opening quote
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character inside a string (escape it)");
      if (c == '\\') {
        ++pos_;
        if (at_end()) break;
        const char e = peek();
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            const std::size_t at = pos_ + i;
            if (at >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[at]))) {
              pos_ = at;
              return fail("expected four hex digits after \\u");
            }
          }
          pos_ += 5;
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) return fail("invalid escape in a string");
      }
      ++pos_;
    }
    return fail("unterminated string");
  }

  bool digits() {
    if (at_end() || peek() < '0' || peek() > '9') return fail("expected a digit");
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return true;
  }

  bool number() {
    if (peek() == '-') ++pos_;
    if (!at_end() && peek() == '0') {
      ++pos_;
      if (!at_end() && peek() >= '0' && peek() <= '9') return fail("a number must not have leading zeros");
    } else if (!digits()) {
      return false;
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (!digits()) return false;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digits()) return false;
    }
    return true;
  }

  // Containers are walked with an explicit stack: no recursion, whatever the nesting.
  bool value() {
    std::vector<char> open;  // '{' or '['
    while (true) {
      skip_whitespace();
      if (at_end()) return fail("expected a JSON value");
      const char c = peek();
      if (c == '{' || c == '[') {
        if (open.size() >= kMaxJsonDepth) return fail("nested too deeply");
        open.push_back(c);
        ++pos_;
        skip_whitespace();
        if (!at_end() && peek() == (c == '{' ? '}' : ']')) {
          ++pos_;
          open.pop_back();
        } else if (c == '{') {
          if (!object_key()) return false;
          continue;  // the member's value
        } else {
          continue;  // the first element
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else if (c == 't') {
        if (!literal("true")) return false;
      } else if (c == 'f') {
        if (!literal("false")) return false;
      } else if (c == 'n') {
        if (!literal("null")) return false;
      } else {
        return fail("expected a JSON value");
      }
      // After a complete value: close containers or move to the next member / element.
      while (true) {
        if (open.empty()) return true;
        skip_whitespace();
        if (at_end()) return fail(open.back() == '{' ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
        const char next = peek();
        if (next == ',') {
          ++pos_;
          if (open.back() == '{') {
            skip_whitespace();
            if (!object_key()) return false;
          }
          break;
        }
        if (next == (open.back() == '{' ? '}' : ']')) {
          ++pos_;
          open.pop_back();
          continue;
        }
        return fail(open.back() == '{' ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
      }
    }
  }

  // At an object key: the key string, then ':' (the value follows).
  bool object_key() {
    skip_whitespace();
    if (at_end() || peek() != '"') return fail("expected a string as the object key");
    if (!string()) return false;
    skip_whitespace();
    if (at_end() || peek() != ':') return fail("expected ':' after an object key");
    ++pos_;
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  JsonSyntaxError error_;
};

}  // namespace

std::string JsonSyntaxError::to_string() const {
  return "byte " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " + std::to_string(column) +
         "): " + what;
}

std::optional<JsonSyntaxError> find_json_syntax_error(std::string_view text) {
  return JsonScanner(text).scan();
}

}  // namespace tollway::core
