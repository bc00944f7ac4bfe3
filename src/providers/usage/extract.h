// Usage extraction: the token counts a provider reports for one call, read from a JSON response body or from
// the events of an SSE stream, with simdjson On-Demand (no DOM). Covers OpenAI chat completions, Responses and
// embeddings (input, output, cached, reasoning tokens) and Anthropic Messages (input, output, cache creation,
// cache read; message_start usage updated by the cumulative message_delta usage) and Gemini generateContent
// (usageMetadata, providers/usage/gemini_usage.h).
// Counts are normalised: input_tokens is every prompt token (for Anthropic: input + cache read + cache
// creation), cached/cache-creation/reasoning are the parts of it (or of output) the provider names.
// Pure: no I/O, no pipeline types; it never alters the bytes it reads and never guesses a number.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/sse.h"
#include "tokens/running_count.h"

namespace tollway::providers {

// Which response shape to read; from the upstream request's API and path.
enum class UsageShape { OpenAIChat, OpenAIResponses, OpenAIEmbeddings, AnthropicMessages, GeminiGenerate, None };
// OpenAI and Anthropic paths; Gemini's are gemini_usage_shape's (providers/usage/gemini_usage.h).
UsageShape usage_shape_for(bool anthropic_api, std::string_view path);

struct TokenCounts {
  uint64_t input_tokens = 0;
  uint64_t output_tokens = 0;
  uint64_t cached_input_tokens = 0;
  uint64_t cache_creation_input_tokens = 0;
  uint64_t reasoning_tokens = 0;
  bool operator==(const TokenCounts&) const = default;
};

// The usage fields exactly as one provider object states them; absent fields stay unset so that cumulative
// updates (Anthropic message_delta) overwrite only what they carry.
struct ReportedUsage {
  std::optional<uint64_t> input, output, cached, cache_creation, cache_read, reasoning;
};

// The usage of a complete (non-streamed) response body; nullopt when it carries none (an error body, a
// malformed body). The body needs no padding (it is copied when needed).
std::optional<TokenCounts> usage_from_response(UsageShape shape, std::string_view body);

// Follows one SSE stream event by event. What an estimate of a cut stream needs is kept as counts, not as the
// events: the output text and tool-call arguments (decoded, not their JSON) are held up to kDeferredTextBytes,
// then go through a RunningTokenCount as they arrive, so a reader's memory is small and the same whatever the
// stream's length; a short stream whose provider reports usage never loads or runs the tokenizer.
class StreamUsageReader {
 public:
  static constexpr std::size_t kDeferredTextBytes = 4096;

  // output_encoding counts the output text; when its rank file cannot be loaded, about four bytes per token.
  StreamUsageReader(UsageShape shape, tokens::EncodingName output_encoding)
      : shape_(shape), output_encoding_(output_encoding) {}

  // Reads one event. Returns true when the event is OpenAI's usage-only chunk (`choices: []` with a usage
  // object) — the one a gateway that asked for include_usage on the caller's behalf removes.
  bool on_event(const http::SseEvent& event);

  bool usage_known() const { return known_; }  // final usage seen (chat usage chunk, response.completed, message_delta)
  bool input_known() const { return input_known_; }  // Anthropic message_start seen: input counts are exact
  const TokenCounts& counts() const { return counts_; }
  bool finished() const { return finished_; }  // [DONE], message_stop or a terminal Responses event seen
  bool saw_error_event() const { return saw_error_; }
  const std::string& error_type() const { return error_type_; }
  uint64_t events() const { return events_; }
  // Tokens of the output text and tool-call arguments streamed so far, for estimating output tokens when the
  // stream ends without usage: the same count as the whole text counted at once (see RunningTokenCount).
  uint64_t output_tokens() const;
  // Bytes of that text.
  uint64_t output_text_bytes() const { return output_text_bytes_; }

 private:
  void count_output(std::string_view event_data);
  UsageShape shape_;
  TokenCounts counts_;
  bool known_ = false;
  bool input_known_ = false;
  bool finished_ = false;
  bool saw_error_ = false;
  std::string error_type_;
  uint64_t events_ = 0;
  tokens::EncodingName output_encoding_;
  uint64_t output_text_bytes_ = 0;
  std::string deferred_text_;                       // output text before the running count starts
  std::optional<tokens::RunningTokenCount> output_;  // started once the text outgrows kDeferredTextBytes
  ReportedUsage anthropic_reported_;  // merged message_start and message_delta usage
};

}  // namespace tollway::providers
