// Gemini usage from the recorded generateContent body and streamGenerateContent SSE stream (tests/mock/recorded),
// the stream read whole and split at many sizes: the numbers equal the recorded usageMetadata, normalised
// (output = candidates + thoughts; input includes the cached content).
#include "providers/usage/gemini_usage.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tollway::providers {
namespace {

std::string recorded(const std::string& name) {
  const char* dir = std::getenv("TOLLWAY_SOURCE_DIR");
  std::ifstream in(std::string(dir ? dir : ".") + "/tests/mock/recorded/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

StreamUsageReader read_stream(const std::string& text, std::size_t piece) {
  StreamUsageReader reader(UsageShape::GeminiGenerate, tokens::EncodingName::O200kBase);
  http::SseReader sse;
  for (std::size_t i = 0; i < text.size(); i += piece)
    sse.feed(std::string_view(text).substr(i, piece), [&](const http::SseEvent& e) { EXPECT_FALSE(reader.on_event(e)); });
  return reader;
}

TEST(GeminiUsage, ShapeFromPath) {
  EXPECT_EQ(gemini_usage_shape("/v1beta/models/gemini-2.5-flash:generateContent"), UsageShape::GeminiGenerate);
  EXPECT_EQ(gemini_usage_shape("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"), UsageShape::GeminiGenerate);
  EXPECT_EQ(gemini_usage_shape("/v1beta/models/gemini-2.5-flash:countTokens"), UsageShape::None);
  EXPECT_EQ(gemini_usage_shape("/v1beta/models"), UsageShape::None);
}

TEST(GeminiUsage, JsonBody) {
  auto counts = usage_from_response(UsageShape::GeminiGenerate, recorded("gemini_generate_content.json"));
  ASSERT_TRUE(counts);
  EXPECT_EQ(*counts, (TokenCounts{9, 12, 0, 0, 0}));
}

TEST(GeminiUsage, StreamAtManySplits) {
  const std::string text = recorded("gemini_stream_generate_content.sse");
  for (std::size_t piece : {1u, 7u, 61u, 4096u}) {
    StreamUsageReader r = read_stream(text, piece);
    EXPECT_TRUE(r.usage_known()) << piece;
    EXPECT_TRUE(r.finished()) << piece;
    // input 1204 (1024 of it cached), output 41 candidates + 161 thoughts
    EXPECT_EQ(r.counts(), (TokenCounts{1204, 202, 1024, 0, 161})) << piece;
  }
}

TEST(GeminiUsage, CutStreamKeepsTheLastReportedCountsButIsNotFinal) {
  std::string text = recorded("gemini_stream_generate_content.sse");
  text.resize(text.rfind("data: "));  // without the final chunk
  StreamUsageReader r = read_stream(text, 13);
  EXPECT_FALSE(r.usage_known());
  EXPECT_FALSE(r.finished());
  EXPECT_TRUE(r.input_known());
  EXPECT_EQ(r.counts().input_tokens, 1204u);
  EXPECT_EQ(r.counts().output_tokens, 18u + 161u);
  EXPECT_GT(r.output_tokens(), 0u);
}

TEST(GeminiUsage, ArrayStreamErrorsAndMalformed) {
  // streamGenerateContent without alt=sse answers one JSON array; the last element's usage counts.
  auto counts = usage_from_response(UsageShape::GeminiGenerate,
                                    R"([{"candidates":[],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1}},)"
                                    R"({"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":7,"toolUsePromptTokenCount":2}}])");
  ASSERT_TRUE(counts);
  EXPECT_EQ(*counts, (TokenCounts{7, 7, 0, 0, 0}));
  const GeminiChunk error = read_gemini_chunk(R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})");
  EXPECT_TRUE(error.error);
  EXPECT_EQ(error.error_status, "RESOURCE_EXHAUSTED");
  EXPECT_FALSE(error.usage);
  EXPECT_FALSE(usage_from_response(UsageShape::GeminiGenerate, "{not json"));
  EXPECT_FALSE(usage_from_response(UsageShape::GeminiGenerate, R"({"usageMetadata":{"promptTokenCount":-1}})"));
}

}  // namespace
}  // namespace tollway::providers
