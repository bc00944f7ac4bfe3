// Names from the OpenTelemetry semantic conventions for generative AI (status: Development), checked against
// open-telemetry/semantic-conventions docs/gen-ai/gen-ai-spans.md and gen-ai-metrics.md as of v1.37.0, the
// release that replaced `gen_ai.system` with `gen_ai.provider.name`. Constants only: never add a name here that
// the conventions do not define (tollway's own names start with `tollway.` / `tollway_` and live elsewhere).
// Prometheus names are the OTel names with '.' -> '_' and the unit suffix (`_seconds`), as the OTel Prometheus
// exporter derives them; the token histogram's unit `{token}` is an annotation and adds no suffix.
#pragma once

#include <array>
#include <string_view>

namespace tollway::telemetry::genai {

// --- Span and metric attributes ---------------------------------------------------------------------------
inline constexpr std::string_view kOperationName = "gen_ai.operation.name";
inline constexpr std::string_view kProviderName = "gen_ai.provider.name";
inline constexpr std::string_view kRequestModel = "gen_ai.request.model";
inline constexpr std::string_view kRequestMaxTokens = "gen_ai.request.max_tokens";
inline constexpr std::string_view kRequestTemperature = "gen_ai.request.temperature";
inline constexpr std::string_view kRequestTopP = "gen_ai.request.top_p";
inline constexpr std::string_view kRequestSeed = "gen_ai.request.seed";
inline constexpr std::string_view kRequestChoiceCount = "gen_ai.request.choice.count";
inline constexpr std::string_view kResponseId = "gen_ai.response.id";
inline constexpr std::string_view kResponseModel = "gen_ai.response.model";
inline constexpr std::string_view kResponseFinishReasons = "gen_ai.response.finish_reasons";
inline constexpr std::string_view kUsageInputTokens = "gen_ai.usage.input_tokens";
inline constexpr std::string_view kUsageOutputTokens = "gen_ai.usage.output_tokens";
inline constexpr std::string_view kConversationId = "gen_ai.conversation.id";
inline constexpr std::string_view kAgentName = "gen_ai.agent.name";  // agent spans (invoke_agent)
inline constexpr std::string_view kOutputType = "gen_ai.output.type";
inline constexpr std::string_view kTokenType = "gen_ai.token.type";
// Opt-in content attributes: recorded only when the operator opted in (prompts and completions are sensitive).
inline constexpr std::string_view kInputMessages = "gen_ai.input.messages";
inline constexpr std::string_view kOutputMessages = "gen_ai.output.messages";
inline constexpr std::string_view kSystemInstructions = "gen_ai.system_instructions";
// General conventions used by the GenAI spans and metrics.
inline constexpr std::string_view kErrorType = "error.type";
inline constexpr std::string_view kServerAddress = "server.address";
inline constexpr std::string_view kServerPort = "server.port";

// --- Well-known values ------------------------------------------------------------------------------------
namespace operation {
inline constexpr std::string_view kChat = "chat";
inline constexpr std::string_view kTextCompletion = "text_completion";
inline constexpr std::string_view kEmbeddings = "embeddings";
inline constexpr std::string_view kGenerateContent = "generate_content";
inline constexpr std::string_view kCreateAgent = "create_agent";
inline constexpr std::string_view kInvokeAgent = "invoke_agent";
inline constexpr std::string_view kExecuteTool = "execute_tool";
}  // namespace operation

namespace provider {
inline constexpr std::string_view kOpenAi = "openai";
inline constexpr std::string_view kAnthropic = "anthropic";
inline constexpr std::string_view kAwsBedrock = "aws.bedrock";
inline constexpr std::string_view kAzureAiOpenAi = "azure.ai.openai";
inline constexpr std::string_view kGcpGemini = "gcp.gemini";
inline constexpr std::string_view kGcpVertexAi = "gcp.vertex_ai";
}  // namespace provider

namespace token_type {
inline constexpr std::string_view kInput = "input";
inline constexpr std::string_view kOutput = "output";
}  // namespace token_type

inline constexpr std::string_view kErrorTypeOther = "_OTHER";

// --- Metric instruments (OTel names) ----------------------------------------------------------------------
inline constexpr std::string_view kMetricClientTokenUsage = "gen_ai.client.token.usage";          // histogram, {token}
inline constexpr std::string_view kMetricClientOperationDuration = "gen_ai.client.operation.duration";  // histogram, s
inline constexpr std::string_view kMetricServerRequestDuration = "gen_ai.server.request.duration";      // histogram, s
inline constexpr std::string_view kMetricServerTimeToFirstToken = "gen_ai.server.time_to_first_token";  // histogram, s
inline constexpr std::string_view kMetricServerTimePerOutputToken =
    "gen_ai.server.time_per_output_token";  // histogram, s

// --- Prometheus names derived from them -------------------------------------------------------------------
inline constexpr std::string_view kPromClientTokenUsage = "gen_ai_client_token_usage";
inline constexpr std::string_view kPromClientOperationDuration = "gen_ai_client_operation_duration_seconds";
inline constexpr std::string_view kPromServerRequestDuration = "gen_ai_server_request_duration_seconds";
inline constexpr std::string_view kPromServerTimeToFirstToken = "gen_ai_server_time_to_first_token_seconds";
inline constexpr std::string_view kPromServerTimePerOutputToken = "gen_ai_server_time_per_output_token_seconds";
// Prometheus label names (attribute names with '.' -> '_').
inline constexpr std::string_view kPromLabelOperationName = "gen_ai_operation_name";
inline constexpr std::string_view kPromLabelProviderName = "gen_ai_provider_name";
inline constexpr std::string_view kPromLabelRequestModel = "gen_ai_request_model";
inline constexpr std::string_view kPromLabelResponseModel = "gen_ai_response_model";
inline constexpr std::string_view kPromLabelTokenType = "gen_ai_token_type";
inline constexpr std::string_view kPromLabelErrorType = "error_type";

// --- Explicit bucket boundaries the conventions recommend -------------------------------------------------
inline constexpr std::array<double, 14> kTokenUsageBuckets = {1,      4,       16,      64,       256,
                                                              1024,   4096,    16384,   65536,    262144,
                                                              1048576, 4194304, 16777216, 67108864};
// gen_ai.client.operation.duration and gen_ai.server.request.duration
inline constexpr std::array<double, 14> kDurationBuckets = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                                            1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
inline constexpr std::array<double, 16> kTimeToFirstTokenBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06,
                                                                    0.08,  0.1,   0.25, 0.5,  0.75, 1.0,
                                                                    2.5,   5.0,   7.5,  10.0};
inline constexpr std::array<double, 13> kTimePerOutputTokenBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                                                      0.3,  0.4,   0.5,  0.75,  1.0, 2.5};

// Prometheus name of an OTel metric name: '.' -> '_' plus `_seconds` when the unit is "s". Compile-time so a
// test can check the constants above against the rule.
template <std::size_t N>
struct PromName {
  std::array<char, N + 9> text{};
  std::size_t size = 0;
  constexpr std::string_view view() const { return {text.data(), size}; }
};
template <std::size_t N>
constexpr PromName<N> prometheus_name(const char (&otel)[N], bool unit_is_seconds) {
  PromName<N> out;
  for (std::size_t i = 0; i + 1 < N; ++i) out.text[out.size++] = otel[i] == '.' ? '_' : otel[i];
  if (unit_is_seconds)
    for (char c : std::string_view("_seconds")) out.text[out.size++] = c;
  return out;
}

}  // namespace tollway::telemetry::genai
