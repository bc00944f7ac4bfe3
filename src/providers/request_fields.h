// Reads the top-level fields of a provider request body that routing needs (today: "model") with simdjson
// On-Demand, without building a DOM. Rejects what would be ambiguous to forward: a body that is not a JSON
// object, a repeated "model", a non-string model, trailing bytes. Never modifies the body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::providers {

struct RequestFields {
  std::optional<std::string> model;
};

// `body` must have at least 64 readable bytes past its end (simdjson padding): pass a std::string whose
// capacity() exceeds size() by that much. Returns nullopt and sets `error` for malformed input.
std::optional<RequestFields> read_request_fields(const std::string& body, std::string& error);

}  // namespace tollway::providers
