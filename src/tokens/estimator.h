// PromptEstimator: the prompt tokens of an API request body before it is sent, for admission control.
// OpenAI chat completions and Responses: exact text tokens (tiktoken ids) plus OpenAI's documented per-message,
// name, tool-definition and image-tile overheads. Anthropic Messages: an estimate (Claude's tokenizer is not
// public) whose measured error is in docs/tokens.md. Never throws on bad input (malformed JSON is an error
// result), never allocates per call beyond the JSON parse and never touches the network.
#pragma once

#include <string>
#include <string_view>

#include "tokens/encoding.h"
#include "tokens/model_encoding.h"

namespace tollway::tokens {

struct PromptEstimate {
  bool ok = false;
  std::size_t tokens = 0;                           // prompt tokens (0 when !ok)
  EncodingName encoding = EncodingName::O200kBase;  // the encoding the text was counted with
  std::string error;                                // why the body could not be estimated (when !ok)
};

class PromptEstimator {
 public:
  // Anthropic text is counted with anthropic_encoding (Claude's own tokenizer is not public).
  explicit PromptEstimator(ModelEncodingTable models = {}, EncodingName anthropic_encoding = EncodingName::Cl100kBase);

  // POST /v1/chat/completions body.
  PromptEstimate estimate_openai_chat(std::string_view body_json) const;
  // POST /v1/responses body.
  PromptEstimate estimate_openai_responses(std::string_view body_json) const;
  // POST /v1/messages body (Anthropic).
  PromptEstimate estimate_anthropic_messages(std::string_view body_json) const;

  const ModelEncodingTable& models() const { return models_; }
  EncodingName anthropic_encoding() const { return anthropic_encoding_; }

 private:
  ModelEncodingTable models_;
  EncodingName anthropic_encoding_;
};

// OpenAI's image rule for gpt-4o-class models: "low" detail costs the base; otherwise the image is fitted into
// 2048x2048, its shortest side scaled down to 768, and each 512-px tile costs tile_tokens. Unknown size (a
// remote URL) is charged as the largest possible image (8 tiles).
std::size_t openai_image_tokens(bool low_detail, long width, long height, std::size_t base_tokens = 85,
                                std::size_t tile_tokens = 170);

// Anthropic's documented image rule: (width * height) / 750 after fitting the long edge into 1568 px;
// unknown size is charged as the largest (1568x1568 scaled to ~1.15 megapixels: 1600 tokens).
std::size_t anthropic_image_tokens(long width, long height);

}  // namespace tollway::tokens
