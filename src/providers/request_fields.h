// Reads the top-level fields of a provider request body that the gateway decides on — model, the output limit
// (max_completion_tokens / max_tokens / max_output_tokens), stream, stream_options.include_usage, tools, user /
// metadata — with simdjson On-Demand, without building a DOM, and records where the model and stream_options
// tokens sit so that a feature can rewrite exactly those bytes (and nothing else) of the body.
// Rejects what would be ambiguous to forward: a body that is not a JSON object, a repeated inspected field,
// a field of the wrong type, trailing bytes. Never modifies the body it reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tollway::providers {

struct ByteRange {
  std::size_t offset = 0;
  std::size_t size = 0;
};

struct RequestFields {
  std::optional<std::string> model;
  ByteRange model_token;  // the model's JSON string token, quotes included
  // The model was named by the request path (Gemini's models/{model}:generateContent), not by the body: the
  // body has no model to rewrite (the path is rewritten instead).
  bool model_in_path = false;
  // The output limit the caller set: max_completion_tokens (OpenAI chat), max_tokens (OpenAI legacy and
  // Anthropic), max_output_tokens (Responses). When both max_completion_tokens and max_tokens are set, the
  // former wins (OpenAI's own rule); nullopt when none is set.
  std::optional<uint64_t> max_output_tokens;
  bool stream = false;
  std::size_t tool_count = 0;
  std::optional<std::string> user;  // OpenAI `user`, Anthropic `metadata.user_id`
  std::optional<std::string> session_id;  // `metadata.session_id` (a string), for per-session limits
  bool has_metadata = false;
  // OpenAI chat `stream_options` as the caller sent it.
  enum class StreamOptions { Absent, Null, Object } stream_options = StreamOptions::Absent;
  ByteRange stream_options_token;   // the `null` literal, or the object's opening '{'
  std::optional<bool> include_usage;
  ByteRange include_usage_token;    // the `true` / `false` literal
  std::size_t after_object_open = 0;  // offset just past the body's opening '{'
};

// `body` must have at least 64 readable bytes past its end (simdjson padding) to be read in place; otherwise
// it is copied once. Returns nullopt and sets `error` (one sentence, safe to show the caller) when malformed.
std::optional<RequestFields> read_request_fields(const std::string& body, std::string& error);

// Edits of the body a feature makes on its way upstream. Each rewrites `body` in place — only the bytes of the
// edited field change — and updates `fields` to describe the new body (values and positions), so no later
// feature reads the body again. The body keeps simdjson padding capacity.

// Sets `stream_options.include_usage` to true (inserted, or the `false` literal replaced).
void set_include_usage(std::string& body, RequestFields& fields);

// Replaces the body's model string with `model` (JSON-escaped); nothing when the body names no model, the model
// is in the path (fields.model_in_path) or already is `model`.
void set_model(std::string& body, RequestFields& fields, std::string_view model);

}  // namespace tollway::providers
