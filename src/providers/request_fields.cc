#include "providers/request_fields.h"

#include <simdjson.h>

namespace tollway::providers {

std::optional<RequestFields> read_request_fields(const std::string& body, std::string& error) {
  thread_local simdjson::ondemand::parser parser;
  RequestFields fields;
  const bool padded = body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING;
  simdjson::padded_string copy;
  simdjson::padded_string_view input;
  if (padded) {
    input = simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  } else {
    copy = simdjson::padded_string(body);
    input = copy;
  }
  simdjson::ondemand::document doc;
  if (parser.iterate(input).get(doc)) {
    error = "the request body is not valid JSON";
    return std::nullopt;
  }
  simdjson::ondemand::object object;
  if (auto ec = doc.get_object().get(object); ec) {
    error = "the request body must be a JSON object";
    return std::nullopt;
  }
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      error = "the request body is not valid JSON (bad object key)";
      return std::nullopt;
    }
    auto value = field.value();
    if (key == "model") {
      if (fields.model) {
        error = "the request body has more than one \"model\" field";
        return std::nullopt;
      }
      std::string_view model;
      if (value.get_string().get(model)) {
        error = "\"model\" must be a string";
        return std::nullopt;
      }
      fields.model = std::string(model);
    } else if (value.error()) {
      error = "the request body is not valid JSON";
      return std::nullopt;
    }  // an unvisited value is skipped (and its brackets checked) when the loop moves on
  }
  if (!doc.current_location().error()) {  // a location left means bytes after the object
    error = "the request body is not valid JSON (unexpected bytes after the object)";
    return std::nullopt;
  }
  return fields;
}

}  // namespace tollway::providers
