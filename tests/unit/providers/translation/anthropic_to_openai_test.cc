// Anthropic Messages caller -> OpenAI-compatible provider: the chat-completions request body, what is refused
// (and why), the chat completion answer as a Message, and chat.completion.chunk events as the Messages event
// sequence (split at every size, the recorded real OpenAI tool-call stream included).
#include "providers/translation/anthropic_to_openai.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "stream_feed.h"

namespace tollway::providers::translation {
namespace {

std::string recorded(const std::string& name) {
  const char* dir = std::getenv("TOLLWAY_SOURCE_DIR");
  std::ifstream in(std::string(dir ? dir : ".") + "/tests/mock/recorded/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string translate(std::string_view body) {
  TranslationError error;
  auto r = anthropic_to_openai_chat_request(body, error);
  EXPECT_TRUE(r) << error.message;
  return r ? r->body : std::string();
}

TranslationError refusal(std::string_view body) {
  TranslationError error;
  EXPECT_FALSE(anthropic_to_openai_chat_request(body, error)) << body;
  return error;
}

TEST(AnthropicToOpenAIRequest, SystemLimitsStopSamplingMetadataStream) {
  TranslationError error;
  auto r = anthropic_to_openai_chat_request(
      R"({"model":"gpt-x","max_tokens":64,"system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},{"type":"text","text":"b"}],
          "messages":[{"role":"user","content":"hi"}],"stop_sequences":["X","Y"],"temperature":0.5,"top_p":0.9,
          "metadata":{"user_id":"u"},"stream":true,"service_tier":"auto"})",
      error);
  ASSERT_TRUE(r) << error.message;
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->max_tokens, 64u);
  EXPECT_EQ(r->body, R"({"model":"gpt-x","messages":[{"role":"system","content":"a\n\nb"},{"role":"user","content":"hi"}],)"
                     R"("max_completion_tokens":64,"stop":["X","Y"],"temperature":0.5,"top_p":0.9,"user":"u",)"
                     R"("stream":true,"stream_options":{"include_usage":true}})");
}

TEST(AnthropicToOpenAIRequest, ToolsToolUseToolResultsImages) {
  EXPECT_EQ(
      translate(R"({"model":"m","max_tokens":5,
        "tools":[{"name":"f","description":"d","input_schema":{"type":"object"}},{"type":"custom","name":"g","input_schema":{}}],
        "tool_choice":{"type":"any","disable_parallel_tool_use":true},
        "messages":[{"role":"user","content":[{"type":"text","text":"q"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},{"type":"tool_use","id":"t2","name":"g","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r1","is_error":false},
                                    {"type":"tool_result","tool_use_id":"t2"},{"type":"text","text":"next"}]}]})"),
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"q"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},)"
      R"({"id":"t2","type":"function","function":{"name":"g","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"t1","content":"r1"},{"role":"tool","tool_call_id":"t2","content":""},)"
      R"({"role":"user","content":"next"}],"max_completion_tokens":5,)"
      R"("tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}},)"
      R"({"type":"function","function":{"name":"g","parameters":{}}}],"tool_choice":"required","parallel_tool_calls":false})");
}

TEST(AnthropicToOpenAIRequest, ToolChoices) {
  const std::string head = R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],"tool_choice":)";
  EXPECT_NE(translate(head + R"({"type":"auto"}})").find(R"("tool_choice":"auto")"), std::string::npos);
  EXPECT_NE(translate(head + R"({"type":"none","disable_parallel_tool_use":true}})").find(R"("tool_choice":"none"})"),
            std::string::npos);
  EXPECT_NE(translate(head + R"({"type":"tool","name":"f"}})").find(R"("tool_choice":{"type":"function","function":{"name":"f"}})"),
            std::string::npos);
}

TEST(AnthropicToOpenAIRequest, RefusesWhatChatCompletionsCannotExpress) {
  const std::string m = R"("model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}])";
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {"{" + m + R"(,"top_k":5})", "`top_k`"},
      {"{" + m + R"(,"thinking":{"type":"enabled","budget_tokens":1024}})", "`thinking`"},
      {"{" + m + R"(,"mcp_servers":[]})", "`mcp_servers`"},
      {"{" + m + R"(,"tools":[{"type":"bash_20250124","name":"bash"}]})", "tools[0].type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]})", "document"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]})", "thinking"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]})", "source.type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{}}]}]}]})", "image"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x","citations":[]}]}]})", "citations"},
  };
  for (const auto& c : cases) {
    const TranslationError e = refusal(c.body);
    EXPECT_TRUE(e.unsupported) << c.body;
    EXPECT_NE(e.message.find(c.field), std::string::npos) << e.message;
  }
}

TEST(AnthropicToOpenAIRequest, RejectsMalformedInput) {
  for (const char* body : {R"("x")", R"({"model":"m","messages":[{"role":"user","content":"x"}]})",
                           R"({"model":"m","max_tokens":5,"messages":[]})",
                           R"({"model":"m","max_tokens":5,"max_tokens":6,"messages":[{"role":"user","content":"x"}]})",
                           R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
                           R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]})",
                           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"tool"}})",
                           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stop_sequences":"X"})"}) {
    const TranslationError e = refusal(body);
    EXPECT_FALSE(e.unsupported) << body << ": " << e.message;
  }
}

TEST(AnthropicToOpenAIResponse, ChatCompletionBecomesMessage) {
  auto out = openai_completion_to_anthropic_message(
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-x","choices":[{"index":0,
         "message":{"role":"assistant","content":"Hi","refusal":null,"tool_calls":[{"id":"c1","type":"function",
         "function":{"name":"f","arguments":"{\"a\": [1]}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":8}}})");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, R"({"id":"chatcmpl-1","type":"message","role":"assistant","model":"gpt-x","content":[{"type":"text","text":"Hi"},)"
                  R"({"type":"tool_use","id":"c1","name":"f","input":{"a":[1]}}],"stop_reason":"tool_use","stop_sequence":null,)"
                  R"("usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":8,"output_tokens":5}})");
}

TEST(AnthropicToOpenAIResponse, StopReasonsRefusalAndBadArguments) {
  EXPECT_EQ(anthropic_stop_reason("stop"), "end_turn");
  EXPECT_EQ(anthropic_stop_reason("length"), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("tool_calls"), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("content_filter"), "refusal");
  auto refused = openai_completion_to_anthropic_message(
      R"({"id":"c","choices":[{"message":{"role":"assistant","content":null,"refusal":"No."},"finish_reason":"content_filter"}]})");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find(R"("content":[{"type":"text","text":"No."}],"stop_reason":"refusal")"), std::string::npos);
  EXPECT_FALSE(openai_completion_to_anthropic_message(
      R"({"id":"c","choices":[{"message":{"tool_calls":[{"id":"x","function":{"name":"f","arguments":"{trunc"}}]}}]})"));
  EXPECT_FALSE(openai_completion_to_anthropic_message(R"({"error":{"message":"x"}})"));
  EXPECT_FALSE(openai_completion_to_anthropic_message(R"({"id":"c","choices":[]})"));
}

std::string event(std::string_view type, std::string_view data) {
  return "event: " + std::string(type) + "\ndata: " + std::string(data) + "\n\n";
}

const char* kChunks =
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"c1\",\"model\":\"gpt-x\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n"
    "data: [DONE]\n\n";

const std::string kExpected =
    event("message_start", R"({"type":"message_start","message":{"id":"c1","type":"message","role":"assistant","model":"gpt-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}})") +
    event("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
    event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})") +
    event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
    event("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})") +
    event("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}})") +
    event("content_block_stop", R"({"type":"content_block_stop","index":1})") +
    event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":2,"output_tokens":4}})") +
    event("message_stop", R"({"type":"message_stop"})");

TEST(OpenAIToAnthropicStreamTest, ChunksBecomeMessagesEventsAtEverySplit) {
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, std::size_t{61}, std::size_t{1} << 20}) {
    OpenAIToAnthropicStream stream;
    EXPECT_EQ(feed_sse(stream, kChunks, piece), kExpected) << piece;
    EXPECT_TRUE(stream.done());
  }
}

TEST(OpenAIToAnthropicStreamTest, MissingDoneErrorsAndCuts) {
  const std::string text(kChunks);
  OpenAIToAnthropicStream no_done;  // finish_reason seen: the message is closed without [DONE]
  EXPECT_EQ(feed_sse(no_done, std::string_view(text).substr(0, text.find("data: [DONE]"))), kExpected);

  OpenAIToAnthropicStream cut;
  const std::string partial = feed_sse(cut, std::string_view(text).substr(0, text.find("\"finish_reason\":\"tool_calls\"") - 200));
  EXPECT_NE(partial.find("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""), std::string::npos);
  EXPECT_EQ(partial.find("message_stop"), std::string::npos);

  OpenAIToAnthropicStream error;
  const std::string out = feed_sse(error, text.substr(0, text.find("\n\n") + 2) +
                                          "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n");
  EXPECT_NE(out.find(R"(event: error)"), std::string::npos);
  EXPECT_NE(out.find(R"("message":"boom")"), std::string::npos);
}

TEST(OpenAIToAnthropicStreamTest, RecordedToolCallStream) {
  OpenAIToAnthropicStream stream;
  const std::string out = feed_sse(stream, recorded("openai_chat_tool_call_usage.sse"), 17);
  EXPECT_TRUE(stream.done());
  EXPECT_NE(out.find(R"("content_block":{"type":"tool_use","id":"call_Qm1pZl8kT2x9","name":"get_weather","input":{}})"),
            std::string::npos);
  EXPECT_NE(out.find(R"("stop_reason":"tool_use")"), std::string::npos);
  EXPECT_TRUE(out.ends_with(event("message_stop", R"({"type":"message_stop"})")));
}

}  // namespace
}  // namespace tollway::providers::translation
