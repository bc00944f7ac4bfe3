// Api: the LLM API formats tollway speaks (a caller's, a provider's) and their names. Only names; it never
// decides which format a request is in.
#pragma once

namespace tollway::config {

enum class Api { OpenAI, Anthropic, Gemini };
const char* api_name(Api api);
// The OpenTelemetry GenAI `gen_ai.provider.name` of a provider: "openai", "anthropic", "gcp.gemini", or
// "azure.ai.openai" for an OpenAI provider with an `azure` block.
const char* genai_provider_name(Api api, bool azure);

}  // namespace tollway::config
