#include "providers/request_fields.h"

#include <simdjson.h>

#include "core/json.h"

namespace tollway::providers {
namespace {

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

ByteRange range_in(const char* base, std::string_view token) {
  return {static_cast<std::size_t>(token.data() - base), token.size()};
}

}  // namespace

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
  const char* base = input.data();
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
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (base[i] == '{') {
      fields.after_object_open = i + 1;
      break;
    }
  }
  bool seen_max_tokens = false, seen_max_completion = false, seen_max_output = false, seen_stream = false,
       seen_tools = false, seen_user = false;
  std::optional<uint64_t> max_tokens, max_completion_tokens;
  auto repeated = [&](std::string_view key) {
    error = "the request body has more than one \"" + std::string(key) + "\" field";
    return std::nullopt;
  };
  auto wrong_type = [&](std::string_view key, std::string_view what) {
    error = "\"" + std::string(key) + "\" must be " + std::string(what);
    return std::nullopt;
  };
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      error = "the request body is not valid JSON (bad object key)";
      return std::nullopt;
    }
    auto value = field.value();
    if (key == "model") {
      if (fields.model) return repeated(key);
      const std::string_view token = trim_right(value.raw_json_token());
      std::string_view model;
      if (value.get_string().get(model)) return wrong_type(key, "a string");
      fields.model = std::string(model);
      fields.model_token = range_in(base, token);
    } else if (key == "max_tokens" || key == "max_completion_tokens" || key == "max_output_tokens") {
      bool& seen = key == "max_tokens" ? seen_max_tokens
                   : key == "max_completion_tokens" ? seen_max_completion
                                                    : seen_max_output;
      if (seen) return repeated(key);
      seen = true;
      bool is_null = false;
      if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) continue;
      uint64_t n = 0;
      if (value.get_uint64().get(n)) return wrong_type(key, "a non-negative integer");
      if (key == "max_tokens") max_tokens = n;
      else if (key == "max_completion_tokens") max_completion_tokens = n;
      else fields.max_output_tokens = n;
    } else if (key == "stream") {
      if (seen_stream) return repeated(key);
      seen_stream = true;
      bool is_null = false;
      if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) continue;
      if (value.get_bool().get(fields.stream)) return wrong_type(key, "a boolean");
    } else if (key == "stream_options") {
      if (fields.stream_options != RequestFields::StreamOptions::Absent) return repeated(key);
      const std::string_view token = trim_right(value.raw_json_token());
      bool is_null = false;
      if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) {
        fields.stream_options = RequestFields::StreamOptions::Null;
        fields.stream_options_token = range_in(base, token);
        continue;
      }
      simdjson::ondemand::object options;
      if (value.get_object().get(options)) return wrong_type(key, "an object or null");
      fields.stream_options = RequestFields::StreamOptions::Object;
      fields.stream_options_token = range_in(base, token);  // starts at '{'
      for (auto option : options) {
        std::string_view option_key;
        if (option.unescaped_key().get(option_key)) {
          error = "the request body is not valid JSON (bad object key)";
          return std::nullopt;
        }
        auto option_value = option.value();
        if (option_key == "include_usage") {
          if (fields.include_usage) return repeated("stream_options.include_usage");
          const std::string_view literal = trim_right(option_value.raw_json_token());
          bool on = false;
          if (option_value.get_bool().get(on)) return wrong_type("stream_options.include_usage", "a boolean");
          fields.include_usage = on;
          fields.include_usage_token = range_in(base, literal);
        } else if (option_value.error()) {
          error = "the request body is not valid JSON";
          return std::nullopt;
        }
      }
    } else if (key == "tools") {
      if (seen_tools) return repeated(key);
      seen_tools = true;
      simdjson::ondemand::array tools;
      if (value.get_array().get(tools)) return wrong_type(key, "an array");
      for (auto tool : tools) {
        if (tool.error()) {
          error = "the request body is not valid JSON";
          return std::nullopt;
        }
        ++fields.tool_count;
      }
    } else if (key == "user") {
      if (seen_user) return repeated(key);
      seen_user = true;
      std::string_view user;
      if (value.get_string().get(user)) return wrong_type(key, "a string");
      fields.user = std::string(user);
    } else if (key == "metadata") {
      if (fields.has_metadata) return repeated(key);
      fields.has_metadata = true;
      bool is_null = false;
      if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) continue;
      simdjson::ondemand::object metadata;
      if (value.get_object().get(metadata)) return wrong_type(key, "an object");
      for (auto entry : metadata) {
        std::string_view entry_key;
        if (entry.unescaped_key().get(entry_key)) {
          error = "the request body is not valid JSON (bad object key)";
          return std::nullopt;
        }
        auto entry_value = entry.value();
        std::string_view text;
        if (entry_key == "user_id" && !fields.user && !entry_value.get_string().get(text)) {
          fields.user = std::string(text);
        } else if (entry_key == "session_id" && !entry_value.get_string().get(text)) {
          fields.session_id = std::string(text);
        } else if (entry_value.error()) {
          error = "the request body is not valid JSON";
          return std::nullopt;
        }
      }
    } else if (value.error()) {
      error = "the request body is not valid JSON";
      return std::nullopt;
    }  // an unvisited value is skipped (and its brackets checked) when the loop moves on
  }
  if (!doc.current_location().error()) {  // a location left means bytes after the object
    error = "the request body is not valid JSON (unexpected bytes after the object)";
    return std::nullopt;
  }
  if (max_completion_tokens) fields.max_output_tokens = max_completion_tokens;
  else if (max_tokens) fields.max_output_tokens = max_tokens;
  return fields;
}

namespace {

// Replaces body[offset, offset + size) with `text` in place and moves every recorded position after the edit by
// the change in length, so that `f` keeps describing the body. The caller records the edited token itself.
void edit(std::string& body, RequestFields& f, std::size_t offset, std::size_t size, std::string_view text) {
  body.reserve(body.size() - size + text.size() + simdjson::SIMDJSON_PADDING);
  body.replace(offset, size, text);
  const auto moved = [&](std::size_t at) { return at > offset ? at - size + text.size() : at; };
  f.model_token.offset = moved(f.model_token.offset);
  f.stream_options_token.offset = moved(f.stream_options_token.offset);
  f.include_usage_token.offset = moved(f.include_usage_token.offset);
  f.after_object_open = moved(f.after_object_open);
}

constexpr std::string_view kTrue = "true";

}  // namespace

void set_include_usage(std::string& body, RequestFields& f) {
  using SO = RequestFields::StreamOptions;
  if (f.include_usage.value_or(false)) return;
  if (f.stream_options == SO::Absent) {
    constexpr std::string_view member = "\"stream_options\":{\"include_usage\":true},";
    const std::size_t at = f.after_object_open;
    edit(body, f, at, 0, member);
    f.stream_options_token = {at + member.find('{'), 1};
    f.include_usage_token = {at + member.find(kTrue), kTrue.size()};
  } else if (f.stream_options == SO::Null) {
    constexpr std::string_view object = "{\"include_usage\":true}";
    const std::size_t at = f.stream_options_token.offset;
    edit(body, f, at, f.stream_options_token.size, object);
    f.stream_options_token = {at, 1};
    f.include_usage_token = {at + object.find(kTrue), kTrue.size()};
  } else if (f.include_usage) {  // the `false` literal
    edit(body, f, f.include_usage_token.offset, f.include_usage_token.size, kTrue);
    f.include_usage_token.size = kTrue.size();
  } else {
    // An object without include_usage: insert the member after '{', with a comma unless the object is empty.
    std::size_t next = f.stream_options_token.offset + 1;
    while (next < body.size() && (body[next] == ' ' || body[next] == '\t' || body[next] == '\n' || body[next] == '\r'))
      ++next;
    const bool empty = next < body.size() && body[next] == '}';
    const std::size_t at = f.stream_options_token.offset + 1;
    edit(body, f, at, 0, empty ? "\"include_usage\":true" : "\"include_usage\":true,");
    f.include_usage_token = {at + std::string_view("\"include_usage\":").size(), kTrue.size()};
  }
  f.stream_options = SO::Object;
  f.include_usage = true;
}

void set_model(std::string& body, RequestFields& f, std::string_view model) {
  if (f.model_in_path || !f.model || *f.model == model) return;
  const std::string quoted = json::quoted(model);
  edit(body, f, f.model_token.offset, f.model_token.size, quoted);
  f.model_token.size = quoted.size();
  f.model = std::string(model);
}

}  // namespace tollway::providers
