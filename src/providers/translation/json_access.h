// Strict reading of JSON for the OpenAI <-> Anthropic translators, with the simdjson DOM: a translation
// rewrites the whole request, so it visits every member anyway and a DOM keeps that code plain (the hot path's
// On-Demand reading stays in request_fields.cc). Members reads one object once: a repeated key, or a key the
// translator does not know, is an error naming the field — never a silent drop; a null value counts as absent.
// It only reads and formats error text; it never throws and never guesses a value.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollway::providers::translation {

namespace dom = simdjson::dom;

// Why a request cannot be translated. `unsupported`: valid input that uses a feature the other API cannot
// express (the caller gets 400 translation_unsupported); otherwise the input itself is malformed (400
// invalid_request). The message names the field and is safe to show the caller.
struct TranslationError {
  bool unsupported = false;
  std::string message;
};

class Members {
 public:
  // Reads `object`; `where` names it in errors ("messages[2]"), `target` names the other API in errors.
  bool read(dom::object object, std::span<const std::string_view> known, std::string_view where,
            std::string_view target, TranslationError& error);
  // The member's value, nullopt when absent or null.
  std::optional<dom::element> get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }

 private:
  std::vector<std::pair<std::string_view, dom::element>> members_;
};

// "messages[2].content" style paths.
std::string field_path(std::string_view where, std::string_view key);
std::string index_path(std::string_view where, std::size_t index);

// Typed access; false when the element has another type.
bool string_of(dom::element e, std::string_view& out);
bool uint_of(dom::element e, uint64_t& out);
bool bool_of(dom::element e, bool& out);
bool is_number(dom::element e);
// The string at `r` (e.g. root["model"]), or `fallback` when it is absent or not a string.
std::string_view string_or(simdjson::simdjson_result<dom::element> r, std::string_view fallback);
// The element as minified JSON text (objects, arrays, numbers, strings).
std::string json_text(dom::element e);

// Parses `text` (copied into padded memory) into `parser`; false when it is not JSON.
bool parse_json(dom::parser& parser, std::string_view text, dom::element& out);

}  // namespace tollway::providers::translation
