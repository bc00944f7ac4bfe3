// Translation for an Anthropic Messages caller whose model is served by an OpenAI-compatible provider: the
// request becomes a chat-completions request, and the provider's answer (a chat.completion body, or its
// chat.completion.chunk events) becomes a Message (or the Messages SSE event sequence message_start …
// message_stop).
// Mapping: system -> a leading system message; max_tokens -> max_completion_tokens; stop_sequences -> stop;
// temperature, top_p; tools (input_schema) -> function tools; tool_choice auto/any/tool/none ->
// auto/required/{function}/none, disable_parallel_tool_use -> parallel_tool_calls false; tool_use blocks ->
// assistant tool_calls; tool_result blocks -> tool messages; image blocks (base64 -> data: URL, url -> URL);
// metadata.user_id -> user; a stream always asks for stream_options.include_usage (the usage the Messages
// events carry). Anything chat completions cannot express (top_k, thinking, documents, server tools, …) is
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
#include "providers/translation/openai_to_anthropic.h"  // TranslatedRequest

namespace tollway::providers::translation {

std::optional<TranslatedRequest> anthropic_to_openai_chat_request(std::string_view body, TranslationError& error);

// An OpenAI chat.completion body -> an Anthropic Message body. nullopt when the body is not a chat completion
// with a choice, or a tool call's arguments are not a JSON object (a Message's tool_use input must be one).
std::optional<std::string> openai_completion_to_anthropic_message(std::string_view body);

// OpenAI's finish_reason -> Anthropic's stop_reason.
std::string_view anthropic_stop_reason(std::string_view openai_finish_reason);

// OpenAI chat.completion.chunk events -> Anthropic Messages SSE events, one event at a time.
class OpenAIToAnthropicStream {
 public:
  // Appends the client's SSE bytes for one provider event to `out`.
  void on_event(const http::SseEvent& event, std::string& out);
  // The provider's stream ended. A stream that reached its finish_reason but omitted `[DONE]` is closed
  // normally; one that ended earlier gets an error event (so the SDK raises instead of returning half an answer).
  void finish(std::string& out);
  bool done() const { return done_; }

 private:
  void start(std::string& out);
  void close_block(std::string& out);
  void end_message(std::string& out);
  void error_event(std::string_view type, std::string_view message, std::string& out);
  bool started_ = false;
  bool done_ = false;
  std::string id_, model_, finish_reason_;
  int open_block_ = -1;                 // the Anthropic content block being streamed, -1 for none
  bool open_is_text_ = false;
  int blocks_ = 0;                      // content blocks started so far
  std::vector<int> block_of_tool_;      // OpenAI tool_calls index -> Anthropic block index
  uint64_t prompt_tokens_ = 0, completion_tokens_ = 0, cached_tokens_ = 0;
  dom::parser parser_;
};

}  // namespace tollway::providers::translation
