// PromptEstimator and ModelEncodingTable: OpenAI's documented counting rules and image examples, Anthropic's
// documented count_tokens examples (the measured error is what docs/tokens.md reports), and bad bodies.
#include <gtest/gtest.h>


#include "tokens/estimator.h"
#include "tokens/image_size.h"
#include "tokens/model_encoding.h"

namespace tollway::tokens {
namespace {

class EstimatorTest : public ::testing::Test {
 protected:
  PromptEstimator est;
  std::size_t count(EncodingName n, std::string_view s) { return Encoding::embedded(n).count(s, SpecialPolicy::Ordinary); }
};

TEST(ModelEncodingTable, DefaultsAndOverrides) {
  ModelEncodingTable t;
  EXPECT_EQ(t.encoding_for("gpt-4o-mini-2024-07-18"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("gpt-4.1-nano"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("o3-mini"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("gpt-5"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("ft:gpt-4o-mini:acme::abc123"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("openai/gpt-4o"), EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("gpt-4-turbo"), EncodingName::Cl100kBase);
  EXPECT_EQ(t.encoding_for("gpt-4"), EncodingName::Cl100kBase);
  EXPECT_EQ(t.encoding_for("gpt-3.5-turbo-0125"), EncodingName::Cl100kBase);
  EXPECT_EQ(t.encoding_for("text-embedding-3-small"), EncodingName::Cl100kBase);
  EXPECT_EQ(t.encoding_for("some-future-model"), EncodingName::O200kBase);
  t.prepend("gpt-4-*", EncodingName::O200kBase);
  EXPECT_EQ(t.encoding_for("gpt-4-turbo"), EncodingName::O200kBase);
  EXPECT_TRUE(ModelEncodingTable::glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(ModelEncodingTable::glob_match("a*b*c", "aXXbYY"));
}

// OpenAI vision guide, "Calculating costs": 1024x1024 high -> 765; 2048x4096 high -> 1105; 4096x8192 low -> 85.
TEST(ImageTokens, OpenAiDocumentedExamples) {
  EXPECT_EQ(openai_image_tokens(false, 1024, 1024), 765u);
  EXPECT_EQ(openai_image_tokens(false, 2048, 4096), 1105u);
  EXPECT_EQ(openai_image_tokens(true, 4096, 8192), 85u);
  EXPECT_EQ(openai_image_tokens(false, -1, -1), 85u + 8 * 170u);  // unknown size: the largest possible
  // Anthropic vision guide: 1092x1092 (1:1) is about 1590 tokens; 1000x1000 is about 1334.
  EXPECT_EQ(anthropic_image_tokens(1092, 1092), 1590u);
  EXPECT_EQ(anthropic_image_tokens(1000, 1000), 1334u);
}

TEST(ImageSize, ReadsPngHeaderFromDataUrl) {
  // 8-byte PNG signature, IHDR length/type, width 640, height 480 (base64 of those 24 bytes).
  const auto size = data_url_image_size("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAoAAAAHg");
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->width, 640u);
  EXPECT_EQ(size->height, 480u);
  EXPECT_FALSE(data_url_image_size("https://example.com/cat.png").has_value());
  EXPECT_FALSE(image_size("not an image").has_value());
}

TEST_F(EstimatorTest, ChatFollowsPerMessageRule) {
  const auto e = est.estimate_openai_chat(R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]})");
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_EQ(e.encoding, EncodingName::O200kBase);
  // 3 (reply priming) + 3 (message) + "user" + "Hello"
  EXPECT_EQ(e.tokens, 3 + 3 + count(EncodingName::O200kBase, "user") + count(EncodingName::O200kBase, "Hello"));
  const auto named = est.estimate_openai_chat(
      R"({"model":"gpt-4","messages":[{"role":"system","name":"example_user","content":"New synergies"}]})");
  ASSERT_TRUE(named.ok);
  EXPECT_EQ(named.encoding, EncodingName::Cl100kBase);
  EXPECT_EQ(named.tokens, 3 + 3 + count(EncodingName::Cl100kBase, "system") + count(EncodingName::Cl100kBase, "example_user") +
                              1 + count(EncodingName::Cl100kBase, "New synergies"));
}

TEST_F(EstimatorTest, ChatCountsToolsToolCallsAndImages) {
  const std::string base = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}]})";
  const std::string with_tool = R"({"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],
    "tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather.",
    "parameters":{"type":"object","properties":{"city":{"type":"string","description":"City name"},
    "unit":{"type":"string","enum":["c","f"]}}}}}]})";
  const auto a = est.estimate_openai_chat(base), b = est.estimate_openai_chat(with_tool);
  ASSERT_TRUE(a.ok && b.ok);
  const auto o2 = [&](std::string_view s) { return count(EncodingName::O200kBase, s); };
  // func_init 7 + "get_weather:Get the weather" + prop_init 3 + 2 x prop_key 3 + "city:string:City name"
  // + enum_init -3 + 2 x (enum_item 3 + item) + "unit:string:" + func_end 12
  const std::size_t tools = 7 + o2("get_weather:Get the weather") + 3 + 3 + o2("city:string:City name") + 3 - 3 + 3 + o2("c") +
                            3 + o2("f") + o2("unit:string:") + 12;
  EXPECT_EQ(b.tokens - a.tokens, tools);
  const auto call = est.estimate_openai_chat(R"({"model":"gpt-4o","messages":[{"role":"assistant","content":null,
    "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}]})");
  ASSERT_TRUE(call.ok);
  EXPECT_EQ(call.tokens, 3 + 3 + o2("assistant") + 3 + o2("get_weather") + o2("{\"city\":\"Paris\"}"));
  const auto img = est.estimate_openai_chat(R"({"model":"gpt-4o","messages":[{"role":"user","content":[
    {"type":"text","text":"What is this?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAABAAAAAQA","detail":"high"}}]}]})");
  ASSERT_TRUE(img.ok);
  EXPECT_EQ(img.tokens, 3 + 3 + o2("user") + o2("What is this?") + 765);  // a 1024x1024 PNG
}

TEST_F(EstimatorTest, ResponsesApi) {
  const auto e = est.estimate_openai_responses(
      R"({"model":"gpt-4.1","instructions":"Be terse.","input":[{"role":"user","content":[{"type":"input_text","text":"Hi there"}]},
      {"type":"function_call","name":"lookup","arguments":"{}","call_id":"c1"},
      {"type":"function_call_output","call_id":"c1","output":"42"}]})");
  ASSERT_TRUE(e.ok) << e.error;
  const auto o2 = [&](std::string_view s) { return count(EncodingName::O200kBase, s); };
  EXPECT_EQ(e.tokens, 3 + (3 + o2("developer") + o2("Be terse.")) + (3 + o2("user") + o2("Hi there")) +
                          (3 + o2("lookup") + o2("{}")) + (3 + o2("42")));
  const auto s = est.estimate_openai_responses(R"({"model":"gpt-4o","input":"Tell me a joke"})");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.tokens, 3 + 3 + o2("user") + o2("Tell me a joke"));
}

// Anthropic's token-counting guide (platform.claude.com/docs/en/build-with-claude/token-counting):
// the basic example returns {"input_tokens": 14}; the get_weather tool example returns {"input_tokens": 403}.
TEST_F(EstimatorTest, AnthropicDocumentedExamples) {
  const auto basic = est.estimate_anthropic_messages(
      R"({"model":"claude-opus-4-6","system":"You are a scientist","messages":[{"role":"user","content":"Hello, Claude"}]})");
  ASSERT_TRUE(basic.ok) << basic.error;
  EXPECT_EQ(basic.tokens, 14u);  // calibration point
  const auto tools = est.estimate_anthropic_messages(R"({"model":"claude-opus-4-6","tools":[{"name":"get_weather",
    "description":"Get the current weather in a given location","input_schema":{"type":"object","properties":
    {"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"}},"required":["location"]}}],
    "messages":[{"role":"user","content":"What's the weather like in San Francisco?"}]})");
  ASSERT_TRUE(tools.ok);
  const double error = (double(tools.tokens) - 403.0) / 403.0;
  std::printf("anthropic get_weather example: estimate %zu vs documented 403 (%+.1f%%)\n", tools.tokens, 100 * error);
  EXPECT_LT(std::abs(error), 0.05);  // held-out example: docs/tokens.md reports this error
}

TEST_F(EstimatorTest, MalformedBodiesAreErrorsNotCrashes) {
  for (const char* bad : {"", "{", "[]", "null", R"({"model":"gpt-4o"})", R"({"model":"gpt-4o","messages":{}})",
                          "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]"}) {
    const auto e = est.estimate_openai_chat(bad);
    EXPECT_FALSE(e.ok) << bad;
    EXPECT_FALSE(e.error.empty()) << bad;
    EXPECT_FALSE(est.estimate_anthropic_messages(bad).ok) << bad;
  }
  EXPECT_FALSE(est.estimate_openai_responses(R"({"model":"gpt-4o","input":5})").ok);
  // Odd-but-valid shapes are counted, not rejected.
  EXPECT_TRUE(est.estimate_openai_chat(R"({"messages":[1,{"role":"user","content":[{"type":"x"}]}]})").ok);
  // A special-token string in a prompt is ordinary text to the provider.
  EXPECT_TRUE(est.estimate_openai_chat(R"({"model":"gpt-4o","messages":[{"role":"user","content":"<|endoftext|>"}]})").ok);
}

}  // namespace
}  // namespace tollway::tokens
