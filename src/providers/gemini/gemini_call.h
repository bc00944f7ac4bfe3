// Google Gemini's REST shapes that the gateway decides on, from its public API reference: the model and method
// in a request path (`/v1beta/models/{model}:generateContent`, `:streamGenerateContent`), the output limit in
// the body (`generationConfig.maxOutputTokens`), the caller's `key=` query parameter, and Gemini's error
// envelope `{"error":{"code","message","status"}}`. Pure functions: no I/O, no pipeline types; they never
// forward or log a key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::providers::gemini {

// `.../models/{model}:{method}` in a path (query excluded).
struct GeminiCall {
  std::string_view model;   // e.g. "gemini-2.5-flash"
  std::string_view method;  // e.g. "generateContent"
  std::size_t model_offset = 0;  // where the model starts in the path
};

// The call a path names, or nullopt (e.g. GET /v1beta/models). A model holds only letters, digits, '-', '.',
// '_' (anything else, percent-escapes included, is not a model name the policies could match).
std::optional<GeminiCall> parse_call(std::string_view path);
// A model name's characters are valid (see parse_call).
bool is_model_name(std::string_view model);

// Methods whose body is a GenerateContentRequest naming its model in the path.
bool takes_model_request(std::string_view method);
bool is_stream_method(std::string_view method);  // streamGenerateContent

// `generationConfig.maxOutputTokens` of a request body; nullopt when absent. Sets `error` when the body is not a
// JSON object or the field is not a non-negative integer.
std::optional<uint64_t> max_output_tokens(std::string_view body, std::string& error);

// A request target (path and query) with the path's model replaced by `model` ("" = kept) and, when `drop_key`,
// every `key=` query parameter removed; the rest unchanged.
std::string rewrite_target(std::string_view target, std::string_view model, bool drop_key);

// Gemini's error envelope for `status`: {"error":{"code":STATUS,"message":...,"status":"INVALID_ARGUMENT"}}.
std::string error_body(int status, std::string_view message);

}  // namespace tollway::providers::gemini
