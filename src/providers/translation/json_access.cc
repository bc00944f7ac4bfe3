#include "providers/translation/json_access.h"

namespace tollway::providers::translation {

bool Members::read(dom::object object, std::span<const std::string_view> known, std::string_view where,
                   std::string_view target, TranslationError& error) {
  members_.clear();
  for (auto field : object) {
    const std::string_view key = field.key;
    bool is_known = false;
    for (const auto k : known) is_known |= (k == key);
    if (!is_known) {
      error = {true, "`" + field_path(where, key) + "` is not supported when the request is translated to the " +
                         std::string(target)};
      return false;
    }
    for (const auto& [k, v] : members_) {
      if (k == key) {
        error = {false, "`" + field_path(where, key) + "` appears more than once"};
        return false;
      }
    }
    members_.emplace_back(key, field.value);
  }
  return true;
}

std::optional<dom::element> Members::get(std::string_view key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return v.is_null() ? std::nullopt : std::optional<dom::element>(v);
  return std::nullopt;
}

std::string field_path(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + "." + std::string(key);
}

std::string index_path(std::string_view where, std::size_t index) {
  return std::string(where) + "[" + std::to_string(index) + "]";
}

bool string_of(dom::element e, std::string_view& out) { return e.get_string().get(out) == simdjson::SUCCESS; }

bool uint_of(dom::element e, uint64_t& out) { return e.get_uint64().get(out) == simdjson::SUCCESS; }

bool bool_of(dom::element e, bool& out) { return e.get_bool().get(out) == simdjson::SUCCESS; }

bool is_number(dom::element e) { return e.is_int64() || e.is_uint64() || e.is_double(); }

std::string_view string_or(simdjson::simdjson_result<dom::element> r, std::string_view fallback) {
  std::string_view s;
  return r.get_string().get(s) == simdjson::SUCCESS ? s : fallback;
}

std::string json_text(dom::element e) { return simdjson::to_string(e); }

bool parse_json(dom::parser& parser, std::string_view text, dom::element& out) {
  return parser.parse(text.data(), text.size(), true).get(out) == simdjson::SUCCESS;
}

}  // namespace tollway::providers::translation
