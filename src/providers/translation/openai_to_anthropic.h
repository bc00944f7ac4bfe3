// Translation for an OpenAI chat-completions caller whose model is served by an Anthropic provider: the
// request becomes a Messages API request, and the provider's answer (a Message body, or its SSE events)
// becomes a chat completion (or chat.completion.chunk events ending in `data: [DONE]`).
// Mapping: system/developer messages -> `system`; max_completion_tokens / max_tokens -> max_tokens (default
// below when absent: Anthropic requires it); stop -> stop_sequences; temperature, top_p; function tools ->
// tools with input_schema; tool_choice none/auto/required/{function} -> none/auto/any/tool; parallel_tool_calls
// false -> disable_parallel_tool_use; assistant tool_calls -> tool_use blocks; tool messages -> tool_result
// blocks in a user turn; image_url (data: URL -> base64 source, http(s) -> url source); user ->
// metadata.user_id. Anything the Messages API cannot express (n > 1, logprobs, response_format, audio, …) is
// refused with a TranslationError naming the field: a request is never forwarded with a feature dropped.
// Pure: no I/O, no pipeline types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/sse.h"
#include "providers/translation/json_access.h"

namespace tollway::providers::translation {

// max_tokens sent to Anthropic when the OpenAI request sets no output limit.
inline constexpr uint64_t kDefaultAnthropicMaxTokens = 4096;

struct TranslatedRequest {
  std::string body;              // the provider's request body
  uint64_t max_tokens = 0;       // the output limit sent
  bool stream = false;
  bool include_usage = false;    // the OpenAI caller asked for stream_options.include_usage
};

std::optional<TranslatedRequest> openai_chat_to_anthropic_request(std::string_view body, TranslationError& error);

// An Anthropic Message body -> an OpenAI chat.completion body (`created`: Unix seconds). nullopt when the body
// is not a Message.
std::optional<std::string> anthropic_message_to_openai_completion(std::string_view body, int64_t created);

// Anthropic's stop_reason -> OpenAI's finish_reason.
std::string_view openai_finish_reason(std::string_view anthropic_stop_reason);

// Anthropic Messages SSE events -> OpenAI chat.completion.chunk events, one event at a time.
class AnthropicToOpenAIStream {
 public:
  AnthropicToOpenAIStream(int64_t created, bool include_usage) : created_(created), include_usage_(include_usage) {}
  // Appends the client's SSE bytes for one provider event to `out`.
  void on_event(const http::SseEvent& event, std::string& out);
  // The provider's stream ended: a stream that ended before message_stop gets an error event (so the SDK
  // raises instead of returning a half answer).
  void finish(std::string& out);
  bool done() const { return done_; }

 private:
  void chunk(std::string_view delta_json, std::string_view finish_reason, std::string& out) const;
  void error_event(std::string_view type, std::string_view message, std::string& out);
  int64_t created_;
  bool include_usage_;
  bool started_ = false;
  bool done_ = false;
  std::string id_, model_;
  uint64_t input_tokens_ = 0, output_tokens_ = 0, cache_read_ = 0, cache_creation_ = 0;
  std::vector<int> tool_index_of_block_;  // Anthropic content block index -> OpenAI tool_calls index (-1: none)
  int tools_ = 0;
  dom::parser parser_;
};

}  // namespace tollway::providers::translation
