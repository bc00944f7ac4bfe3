// Usage extraction from JSON bodies and from the recorded SSE streams (tests/mock/recorded), read whole and
// split at every size: the numbers equal the recorded ones, and the output tokens counted as the stream passes
// equal the count of the whole output text.
#include "providers/usage/extract.h"

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

std::size_t tokens_of(std::string_view text) { return tokens::Encoding::embedded(tokens::EncodingName::O200kBase).count(text, tokens::SpecialPolicy::Ordinary); }

struct StreamResult {
  StreamUsageReader reader;
  std::vector<std::pair<uint64_t, uint64_t>> removable;  // ranges of usage-only chunks
};

StreamResult read_stream(UsageShape shape, const std::string& text, std::size_t piece) {
  StreamResult r{StreamUsageReader(shape, tokens::EncodingName::O200kBase), {}};
  http::SseReader sse;
  for (std::size_t i = 0; i < text.size(); i += piece)
    sse.feed(std::string_view(text).substr(i, piece), [&](const http::SseEvent& e) {
      if (r.reader.on_event(e)) r.removable.push_back({e.begin, e.end});
    });
  return r;
}

TEST(UsageFromResponse, OpenAIChatResponsesEmbeddingsAnthropic) {
  auto chat = usage_from_response(UsageShape::OpenAIChat, R"({"id":"x","choices":[{"message":{"content":"usage"}}],
    "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,
    "prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},
    "completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":0}}})");
  ASSERT_TRUE(chat);
  EXPECT_EQ(*chat, (TokenCounts{19, 10, 3, 0, 4}));
  auto responses = usage_from_response(UsageShape::OpenAIResponses, R"({"object":"response","usage":{
    "input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,
    "output_tokens_details":{"reasoning_tokens":64},"total_tokens":123}})");
  ASSERT_TRUE(responses);
  EXPECT_EQ(*responses, (TokenCounts{36, 87, 0, 0, 64}));
  auto embeddings = usage_from_response(UsageShape::OpenAIEmbeddings,
                                        R"({"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}})");
  ASSERT_TRUE(embeddings);
  EXPECT_EQ(*embeddings, (TokenCounts{8, 0, 0, 0, 0}));
  auto anthropic = usage_from_response(UsageShape::AnthropicMessages, R"({"type":"message","usage":{
    "input_tokens":2095,"cache_creation_input_tokens":null,"cache_read_input_tokens":100,"output_tokens":503}})");
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(*anthropic, (TokenCounts{2195, 503, 100, 0, 0}));
}

TEST(UsageFromResponse, ErrorsAndMalformedBodiesCarryNoUsage) {
  EXPECT_FALSE(usage_from_response(UsageShape::OpenAIChat, R"({"error":{"message":"x","type":"server_error"}})"));
  EXPECT_FALSE(usage_from_response(UsageShape::OpenAIChat, R"({"usage":{"prompt_tokens":-1}})"));
  EXPECT_FALSE(usage_from_response(UsageShape::OpenAIChat, R"({"usage":)"));
  EXPECT_FALSE(usage_from_response(UsageShape::None, R"({"usage":{"prompt_tokens":1}})"));
}

TEST(UsageShapeFor, FromApiAndPath) {
  EXPECT_EQ(usage_shape_for(false, "/v1/chat/completions"), UsageShape::OpenAIChat);
  EXPECT_EQ(usage_shape_for(false, "/base/v1/responses?x=1"), UsageShape::OpenAIResponses);
  EXPECT_EQ(usage_shape_for(false, "/v1/embeddings"), UsageShape::OpenAIEmbeddings);
  EXPECT_EQ(usage_shape_for(true, "/v1/messages"), UsageShape::AnthropicMessages);
  EXPECT_EQ(usage_shape_for(true, "/v1/messages/count_tokens"), UsageShape::None);
  EXPECT_EQ(usage_shape_for(false, "/v1/models"), UsageShape::None);
}

TEST(StreamUsage, OpenAIChatWithLogprobsAtEverySplit) {
  const std::string text = recorded("openai_chat_logprobs_usage.sse");
  for (std::size_t piece : {text.size(), std::size_t{1}, std::size_t{7}, std::size_t{100}}) {
    auto r = read_stream(UsageShape::OpenAIChat, text, piece);
    ASSERT_TRUE(r.reader.usage_known()) << piece;
    EXPECT_EQ(r.reader.counts(), (TokenCounts{1342, 7, 1024, 0, 0}));
    EXPECT_TRUE(r.reader.finished());
    ASSERT_EQ(r.removable.size(), 1u);  // exactly the usage-only chunk
    const std::string_view removed = std::string_view(text).substr(r.removable[0].first,
                                                                   r.removable[0].second - r.removable[0].first);
    EXPECT_NE(removed.find("\"choices\":[]"), std::string_view::npos);
    EXPECT_EQ(r.reader.output_tokens(), tokens_of("Hello! How can I help?"));
    EXPECT_EQ(r.reader.output_text_bytes(), std::string_view("Hello! How can I help?").size());
  }
}

TEST(StreamUsage, OpenAIChatToolCallWithReasoningTokens) {
  auto r = read_stream(UsageShape::OpenAIChat, recorded("openai_chat_tool_call_usage.sse"), 13);
  ASSERT_TRUE(r.reader.usage_known());
  EXPECT_EQ(r.reader.counts(), (TokenCounts{81, 215, 0, 0, 192}));
  EXPECT_EQ(r.reader.output_tokens(), tokens_of("get_weather{\"location\":\"Paris, France\"}"));
}

TEST(StreamUsage, AnthropicStartPlusCumulativeDelta) {
  const std::string text = recorded("anthropic_messages_tool_use.sse");
  for (std::size_t piece : {text.size(), std::size_t{1}, std::size_t{64}}) {
    auto r = read_stream(UsageShape::AnthropicMessages, text, piece);
    ASSERT_TRUE(r.reader.usage_known());
    EXPECT_EQ(r.reader.counts(), (TokenCounts{6616, 89, 4096, 2048, 0}));
    EXPECT_TRUE(r.reader.finished());
    EXPECT_FALSE(r.reader.saw_error_event());
    EXPECT_TRUE(r.removable.empty());
  }
}

TEST(StreamUsage, AnthropicErrorMidStreamKeepsTheInputUsage) {
  auto r = read_stream(UsageShape::AnthropicMessages, recorded("anthropic_messages_error_midstream.sse"), 5);
  EXPECT_FALSE(r.reader.usage_known());
  EXPECT_TRUE(r.reader.input_known());
  EXPECT_EQ(r.reader.counts().input_tokens, 25u);
  EXPECT_TRUE(r.reader.saw_error_event());
  EXPECT_EQ(r.reader.error_type(), "overloaded_error");
  EXPECT_EQ(r.reader.output_tokens(), tokens_of("Hello! I am Claude"));
}

TEST(StreamUsage, CutStreamHasNoUsage) {
  std::string text = recorded("openai_chat_logprobs_usage.sse");
  text.resize(text.size() / 2);
  auto r = read_stream(UsageShape::OpenAIChat, text, 9);
  EXPECT_FALSE(r.reader.usage_known());
  EXPECT_FALSE(r.reader.finished());
  EXPECT_GT(r.reader.output_tokens(), 0u);
}

// 50,000 chunks (about 5 MB of events, beyond the 4 MiB per stream the reader once kept as raw JSON): every
// delta still counts, exactly as the whole text counted at once.
TEST(StreamUsage, LongStreamCountsEveryDeltaExactly) {
  StreamUsageReader reader(UsageShape::OpenAIChat, tokens::EncodingName::O200kBase);
  http::SseReader sse;
  std::string whole;
  const char* words[] = {"Hello", " world", "!", " It's", " 42", R"(\n\n)", R"( caf\u00e9)", " don", "'t", "  ", "x"};
  const char* decoded[] = {"Hello", " world", "!", " It's", " 42", "\n\n", " caf\xC3\xA9", " don", "'t", "  ", "x"};
  for (int i = 0; i < 50000; ++i) {
    const int k = (i * 7 + i / 3) % 11;
    whole += decoded[k];
    sse.feed(std::string(R"(data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":")") +
                 words[k] + "\"},\"finish_reason\":null}]}\n\n",
             [&](const http::SseEvent& e) { reader.on_event(e); });
  }
  EXPECT_FALSE(reader.usage_known());
  EXPECT_EQ(reader.output_text_bytes(), whole.size());
  EXPECT_EQ(reader.output_tokens(), tokens_of(whole));
}

}  // namespace
}  // namespace tollway::providers
