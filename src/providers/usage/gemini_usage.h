// Usage of Google Gemini's generateContent / streamGenerateContent responses: `usageMetadata` of one
// GenerateContentResponse (a JSON body, one SSE chunk, or the last element of a non-SSE stream's JSON array),
// normalised like the other providers' counts: input = promptTokenCount (cached content included) +
// toolUsePromptTokenCount, cached = cachedContentTokenCount, output = candidatesTokenCount + thoughtsTokenCount,
// reasoning = thoughtsTokenCount. Pure: no I/O, no pipeline types; never guesses a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/usage/extract.h"

namespace tollway::providers {

// What one Gemini response object says.
struct GeminiChunk {
  std::optional<TokenCounts> usage;  // usageMetadata with a promptTokenCount
  bool finished = false;             // a candidate carries finishReason, or the prompt was blocked
  bool error = false;                // {"error": {...}}
  std::string error_status;          // its `status` (e.g. "RESOURCE_EXHAUSTED"), "error" when none
};

GeminiChunk read_gemini_chunk(std::string_view json);

// GeminiGenerate for a path ending in :generateContent or :streamGenerateContent (query ignored), else None.
UsageShape gemini_usage_shape(std::string_view path);

}  // namespace tollway::providers
