#include "core/strict_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace tollway::core::strict_json {

const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

std::optional<std::string_view> Value::string_member(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string());
}

// The parser (a friend of Value: it records each value's place in the text).
class Reader {
 public:
  Reader(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  std::optional<Value> document(std::string& error) {
    if (text_.size() > limits_.max_bytes) return fail(error, "document larger than the limit");
    skip_space();
    auto v = value(0, error);
    if (!v) return std::nullopt;
    skip_space();
    if (pos_ != text_.size()) return fail(error, "trailing bytes after the JSON value");
    return v;
  }

 private:
  std::optional<Value> fail(std::string& error, const char* what) {
    if (error.empty()) error = std::string(what) + " at byte " + std::to_string(pos_);
    return std::nullopt;
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // One value with its place in the text.
  std::optional<Value> value(int depth, std::string& error) {
    const std::size_t begin = pos_;
    auto v = bare_value(depth, error);
    if (v) {
      v->begin_ = begin;
      v->end_ = pos_;
    }
    return v;
  }

  std::optional<Value> bare_value(int depth, std::string& error) {
    if (depth > limits_.max_depth) return fail(error, "nesting deeper than the limit");
    if (pos_ >= text_.size()) return fail(error, "unexpected end of input");
    const char c = text_[pos_];
    switch (c) {
      case '{':
        return object(depth, error);
      case '[':
        return array(depth, error);
      case '"': {
        std::string s;
        if (!string(s, error)) return std::nullopt;
        return Value::make_string(std::move(s));
      }
      case 't':
        if (literal("true")) return Value::make_bool(true);
        break;
      case 'f':
        if (literal("false")) return Value::make_bool(false);
        break;
      case 'n':
        if (literal("null")) return Value::make_null();
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number(error);
    }
    return fail(error, "unexpected character");
  }

  // Duplicate keys: a scan of the members read so far while the object is small (no allocation: JSON-RPC
  // messages, JWTs and API bodies have objects of a handful of keys), a hash set of the keys from kScanKeys on (so a
  // large object stays linear).
  static constexpr std::size_t kScanKeys = 16;
  static bool duplicate_key(const std::vector<Value::Member>& members, std::unordered_set<std::string>& keys,
                            const std::string& key) {
    if (members.size() < kScanKeys) {
      for (const auto& member : members)
        if (member.first == key) return true;
      return false;
    }
    if (keys.empty())
      for (const auto& member : members) keys.insert(member.first);
    return !keys.insert(key).second;
  }

  std::optional<Value> object(int depth, std::string& error) {
    ++pos_;  // '{'
    std::vector<Value::Member> members;
    std::unordered_set<std::string> keys;  // filled only once the object reaches kScanKeys members
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Value::make_object(std::move(members));
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail(error, "expected an object key");
      std::string key;
      if (!string(key, error)) return std::nullopt;
      if (duplicate_key(members, keys, key)) return fail(error, "duplicate object key");
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail(error, "expected ':'");
      ++pos_;
      skip_space();
      auto v = value(depth + 1, error);
      if (!v) return std::nullopt;
      members.emplace_back(std::move(key), std::move(*v));
      skip_space();
      if (pos_ >= text_.size()) return fail(error, "unexpected end of input in an object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return Value::make_object(std::move(members));
      }
      return fail(error, "expected ',' or '}'");
    }
  }

  std::optional<Value> array(int depth, std::string& error) {
    ++pos_;  // '['
    std::vector<Value> items;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return Value::make_array(std::move(items));
    }
    while (true) {
      skip_space();
      auto v = value(depth + 1, error);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
      skip_space();
      if (pos_ >= text_.size()) return fail(error, "unexpected end of input in an array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return Value::make_array(std::move(items));
      }
      return fail(error, "expected ',' or ']'");
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  // One UTF-8 sequence starting at pos_ (well-formed per RFC 3629: no overlongs, no surrogates).
  bool utf8_sequence(std::string& out) {
    const auto b0 = static_cast<unsigned char>(text_[pos_]);
    int extra = 0;
    uint32_t min = 0, cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      extra = 1;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      extra = 2;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      extra = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    } else
      return false;
    if (pos_ + extra >= text_.size()) return false;
    for (int i = 1; i <= extra; ++i) {
      const auto b = static_cast<unsigned char>(text_[pos_ + i]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out.append(text_.substr(pos_, extra + 1));
    pos_ += extra + 1;
    return true;
  }

  bool string(std::string& out, std::string& error) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return fail(error, "unterminated string"), false;
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail(error, "control character in a string"), false;
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size()) return fail(error, "unterminated escape"), false;
        const char e = text_[pos_++];
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            uint32_t cp = 0;
            if (!hex4(cp)) return fail(error, "bad \\u escape"), false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(error, "lone low surrogate"), false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t low = 0;
              if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u')
                return fail(error, "lone high surrogate"), false;
              pos_ += 2;
              if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail(error, "bad surrogate pair"), false;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default:
            return fail(error, "unknown escape"), false;
        }
        continue;
      }
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      if (!utf8_sequence(out)) return fail(error, "invalid UTF-8 in a string"), false;
    }
  }

  std::optional<Value> number(std::string& error) {
    const std::size_t start = pos_;
    bool integer = true;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size()) return fail(error, "bad number");
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') return fail(error, "leading zero");
    } else if (text_[pos_] >= '1' && text_[pos_] <= '9') {
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    } else {
      return fail(error, "bad number");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      const std::size_t digits = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == digits) return fail(error, "bad fraction");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      const std::size_t digits = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == digits) return fail(error, "bad exponent");
    }
    const std::string literal_text(text_.substr(start, pos_ - start));
    const double d = std::strtod(literal_text.c_str(), nullptr);
    if (!std::isfinite(d)) return fail(error, "number out of range");
    int64_t i = 0;
    if (integer) {
      errno = 0;
      char* end = nullptr;
      const long long ll = std::strtoll(literal_text.c_str(), &end, 10);
      if (errno == ERANGE)
        integer = false;
      else
        i = ll;
    }
    return Value::make_number(d, integer, i);
  }

  std::string_view text_;
  const ParseLimits& limits_;
  std::size_t pos_ = 0;
};

std::optional<Value> parse(std::string_view text, std::string& error, const ParseLimits& limits) {
  error.clear();
  Reader reader(text, limits);
  return reader.document(error);
}

}  // namespace tollway::core::strict_json
