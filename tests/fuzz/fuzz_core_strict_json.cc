// libFuzzer target for the strict JSON reader (core::strict_json), which reads every security-relevant JSON body
// (JOSE headers, JWT claims, JWKS, admin and control-plane request bodies: usage reports, ACKs). Invariants: a
// document that parses has no duplicate key in any object, nests no deeper than the limit, holds only valid UTF-8
// strings and parses the same again, and each value's recorded text [begin, end) parses alone to the same value; one
// with a byte appended after it ("x") no longer parses; a document that
// does not parse gets a non-empty reason.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/strict_json.h"
#include "fuzz_check.h"

namespace {

namespace sj = tollway::core::strict_json;

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

bool same(const sj::Value& a, const sj::Value& b);

// Checks one value (its place in `text` too) and returns its depth (a scalar is 0).
int check(std::string_view text, const sj::Value& v) {
  FUZZ_CHECK(v.begin() < v.end() && v.end() <= text.size());
  std::string error;
  const auto alone = sj::parse(text.substr(v.begin(), v.end() - v.begin()), error);
  FUZZ_CHECK(alone && same(*alone, v));
  int depth = 0;
  if (v.is_string()) FUZZ_CHECK(valid_utf8(v.as_string()));
  if (v.is_array())
    for (const auto& item : v.items()) depth = std::max(depth, check(text, item) + 1);
  if (v.is_object()) {
    std::set<std::string> keys;
    for (const auto& [key, value] : v.members()) {
      FUZZ_CHECK(valid_utf8(key));
      FUZZ_CHECK(keys.insert(key).second);
      FUZZ_CHECK(v.find(key) == &value);
      depth = std::max(depth, check(text, value) + 1);
    }
  }
  return depth;
}

bool same(const sj::Value& a, const sj::Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case sj::Value::Kind::Null: return true;
    case sj::Value::Kind::Bool: return a.as_bool() == b.as_bool();
    case sj::Value::Kind::Number: return a.is_integer() == b.is_integer() && a.as_int() == b.as_int();
    case sj::Value::Kind::String: return a.as_string() == b.as_string();
    case sj::Value::Kind::Array:
      if (a.items().size() != b.items().size()) return false;
      for (std::size_t i = 0; i < a.items().size(); ++i)
        if (!same(a.items()[i], b.items()[i])) return false;
      return true;
    case sj::Value::Kind::Object:
      if (a.members().size() != b.members().size()) return false;
      for (std::size_t i = 0; i < a.members().size(); ++i)
        if (a.members()[i].first != b.members()[i].first || !same(a.members()[i].second, b.members()[i].second))
          return false;
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto value = sj::parse(text, error);
  if (!value) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(check(text, *value) <= sj::ParseLimits{}.max_depth);
  std::string again_error;
  const auto again = sj::parse(text, again_error);
  FUZZ_CHECK(again && same(*again, *value));
  std::string trailing_error;
  FUZZ_CHECK(!sj::parse(std::string(text) + "x", trailing_error));
  return 0;
}
