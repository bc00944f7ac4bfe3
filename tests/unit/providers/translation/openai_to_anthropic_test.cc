// OpenAI chat-completions caller -> Anthropic provider: the request body written for the Messages API, what is
// refused (and why), the Message answer as a chat completion, and the Messages SSE events as chunks (split
// at every size, recorded real streams included).
#include "providers/translation/openai_to_anthropic.h"

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
  auto r = openai_chat_to_anthropic_request(body, error);
  EXPECT_TRUE(r) << error.message;
  return r ? r->body : std::string();
}

TranslationError refusal(std::string_view body) {
  TranslationError error;
  EXPECT_FALSE(openai_chat_to_anthropic_request(body, error)) << body;
  return error;
}

TEST(OpenAIToAnthropicRequest, SystemMessagesLimitsStopSamplingUser) {
  EXPECT_EQ(translate(R"({"model":"claude-x","messages":[{"role":"system","content":"a"},{"role":"user","content":"hi"},
      {"role":"developer","content":[{"type":"text","text":"b"}]}],"max_tokens":10,"max_completion_tokens":20,
      "stop":"END","temperature":0.25,"top_p":1,"user":"u1","n":1,"logprobs":false,"store":true,"seed":3})"),
            R"({"model":"claude-x","max_tokens":20,"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}],)"
            R"("messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stop_sequences":["END"],)"
            R"("temperature":0.25,"top_p":1,"metadata":{"user_id":"u1"}})");
}

TEST(OpenAIToAnthropicRequest, DefaultMaxTokensAndStreamFlags) {
  TranslationError error;
  auto r = openai_chat_to_anthropic_request(
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})",
      error);
  ASSERT_TRUE(r) << error.message;
  EXPECT_EQ(r->max_tokens, kDefaultAnthropicMaxTokens);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->body, R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stream":true})");
}

TEST(OpenAIToAnthropicRequest, ToolsChoicesCallsResultsAndImages) {
  EXPECT_EQ(
      translate(R"({"model":"m","max_tokens":5,"parallel_tool_calls":false,
        "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"},"strict":true}},
                 {"type":"function","function":{"name":"g"}}],
        "tool_choice":{"type":"function","function":{"name":"f"}},
        "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}},
                                             {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAAA"}}]},
          {"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}},
                                                          {"id":"c2","type":"function","function":{"name":"g","arguments":""}}]},
          {"role":"tool","tool_call_id":"c1","content":"r1"},
          {"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"r2"}]},
          {"role":"assistant","content":[{"type":"text","text":"done"}],"refusal":null,"annotations":[]}]})"),
      R"({"model":"m","max_tokens":5,"messages":[)"
      R"({"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAAA"}}]},)"
      R"({"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},)"
      R"({"type":"tool_use","id":"c2","name":"g","input":{}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},)"
      R"({"type":"tool_result","tool_use_id":"c2","content":[{"type":"text","text":"r2"}]}]},)"
      R"({"role":"assistant","content":[{"type":"text","text":"done"}]}],)"
      R"("tools":[{"name":"f","description":"d","input_schema":{"type":"object"}},)"
      R"({"name":"g","input_schema":{"type":"object","properties":{}}}],)"
      R"("tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true}})");
}

TEST(OpenAIToAnthropicRequest, ToolChoiceStrings) {
  const std::string head = R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":)";
  EXPECT_NE(translate(head + R"("required"})").find(R"("tool_choice":{"type":"any"})"), std::string::npos);
  EXPECT_NE(translate(head + R"("none"})").find(R"("tool_choice":{"type":"none"})"), std::string::npos);
  EXPECT_NE(translate(head + R"("auto"})").find(R"("tool_choice":{"type":"auto"})"), std::string::npos);
  EXPECT_EQ(translate(R"({"model":"m","messages":[{"role":"user","content":"x"}]})").find("tool_choice"), std::string::npos);
}

TEST(OpenAIToAnthropicRequest, RefusesWhatTheMessagesApiCannotExpress) {
  const std::string m = R"("model":"m","messages":[{"role":"user","content":"x"}])";
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {"{" + m + R"(,"n":2})", "`n`"},
      {"{" + m + R"(,"logprobs":true})", "`logprobs`"},
      {"{" + m + R"(,"top_logprobs":2})", "`top_logprobs`"},
      {"{" + m + R"(,"presence_penalty":0.5})", "`presence_penalty`"},
      {"{" + m + R"(,"response_format":{"type":"json_object"}})", "`response_format`"},
      {"{" + m + R"(,"logit_bias":{"50256":-100}})", "`logit_bias`"},
      {"{" + m + R"(,"audio":{"voice":"x"}})", "`audio`"},
      {"{" + m + R"(,"functions":[]})", "`functions`"},
      {"{" + m + R"(,"stream_options":{"x":1}})", "`stream_options.x`"},
      {R"({"model":"m","messages":[{"role":"function","name":"f","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{}}]}]})", "messages[0].content[0]"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA"}}]}]})",
       "image/bmp"},
      {R"({"model":"m","messages":[{"role":"user","content":"x","cache":1}]})", "messages[0].cache"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{}}]})", "tools[0].type"},
  };
  for (const auto& c : cases) {
    const TranslationError e = refusal(c.body);
    EXPECT_TRUE(e.unsupported) << c.body;
    EXPECT_NE(e.message.find(c.field), std::string::npos) << e.message;
  }
}

TEST(OpenAIToAnthropicRequest, RejectsMalformedInput) {
  for (const char* body : {R"([])", R"({"model":"m"})", R"({"model":"m","messages":[]})",
                           R"({"model":"m","model":"n","messages":[{"role":"user","content":"x"}]})",
                           R"({"model":"m","messages":[{"role":"user","content":"x","content":"y"}]})",
                           R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})",
                           R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]})",
                           R"({"model":"m","messages":[{"role":"tool","content":"x"}]})",
                           R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1]"}}]}]})",
                           R"({"model":"m","messages":[{"role":"user","content":"x","tool_calls":[]}]})",
                           R"({"model":"m","messages":[{"role":"system","content":"only system"}]})",
                           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}"}) {
    const TranslationError e = refusal(body);
    EXPECT_FALSE(e.unsupported) << body << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(OpenAIToAnthropicResponse, MessageBecomesChatCompletion) {
  auto out = anthropic_message_to_openai_completion(
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hi"},
         {"type":"text","text":" there"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":[1,"b"]}}],
         "stop_reason":"tool_use","stop_sequence":null,
         "usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":7,"output_tokens":5}})",
      1700000000);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            R"({"id":"msg_1","object":"chat.completion","created":1700000000,"model":"claude-x","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hi there","refusal":null,"tool_calls":[{"id":"toolu_1","type":"function",)"
            R"("function":{"name":"f","arguments":"{\"a\":[1,\"b\"]}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],)"
            R"("usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":7}}})");
}

TEST(OpenAIToAnthropicResponse, StopReasons) {
  EXPECT_EQ(openai_finish_reason("end_turn"), "stop");
  EXPECT_EQ(openai_finish_reason("stop_sequence"), "stop");
  EXPECT_EQ(openai_finish_reason("pause_turn"), "stop");
  EXPECT_EQ(openai_finish_reason("max_tokens"), "length");
  EXPECT_EQ(openai_finish_reason("model_context_window_exceeded"), "length");
  EXPECT_EQ(openai_finish_reason("tool_use"), "tool_calls");
  EXPECT_EQ(openai_finish_reason("refusal"), "content_filter");
  auto only_tools = anthropic_message_to_openai_completion(
      R"({"id":"m","type":"message","model":"x","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use"})", 1);
  ASSERT_TRUE(only_tools);
  EXPECT_NE(only_tools->find(R"("content":null)"), std::string::npos);
  EXPECT_FALSE(anthropic_message_to_openai_completion(R"({"type":"error","error":{}})", 1));
  EXPECT_FALSE(anthropic_message_to_openai_completion(R"({"id":"m","type":"message","content":[{"type":"text"}]})", 1));
}

const char* kStream =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\","
    "\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":4,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\":1}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

std::string chunk(std::string_view delta, std::string_view finish, bool usage_null) {
  return std::string(R"(data: {"id":"msg_1","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[{"index":0,"delta":)") +
         std::string(delta) + R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]" +
         (usage_null ? R"(,"usage":null)" : "") + "}\n\n";
}

TEST(AnthropicToOpenAIStreamTest, EventsBecomeChunksAtEverySplit) {
  for (bool include_usage : {false, true}) {
    std::string expected = chunk(R"({"role":"assistant","content":""})", "null", include_usage) +
                           chunk(R"({"content":"Hi"})", "null", include_usage) +
                           chunk(R"({"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":""}}]})", "null", include_usage) +
                           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]})", "null", include_usage) +
                           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]})", "null", include_usage) +
                           chunk("{}", R"("tool_calls")", include_usage);
    if (include_usage)
      expected += R"(data: {"id":"msg_1","object":"chat.completion.chunk","created":7,"model":"claude-x","choices":[],)"
                  R"("usage":{"prompt_tokens":14,"completion_tokens":9,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":4}}})"
                  "\n\n";
    expected += "data: [DONE]\n\n";
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{61}, std::size_t{1} << 20}) {
      AnthropicToOpenAIStream stream(7, include_usage);
      EXPECT_EQ(feed_sse(stream, kStream, piece), expected) << piece;
      EXPECT_TRUE(stream.done());
    }
  }
}

TEST(AnthropicToOpenAIStreamTest, ErrorEventAndCutStreamEndInAnOpenAIError) {
  AnthropicToOpenAIStream with_error(1, false);
  const std::string out = feed_sse(with_error, recorded("anthropic_messages_error_midstream.sse"), 61);
  EXPECT_NE(out.find(R"(data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":"overloaded_error"}})"),
            std::string::npos);
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);

  AnthropicToOpenAIStream cut(1, false);
  const std::string text(kStream);
  const std::string partial = feed_sse(cut, std::string_view(text).substr(0, text.find("event: message_delta")));
  EXPECT_NE(partial.find(R"("type":"api_error")"), std::string::npos);
  EXPECT_EQ(partial.find("[DONE]"), std::string::npos);

  AnthropicToOpenAIStream garbage(1, false);
  EXPECT_NE(feed_sse(garbage, "data: {not json\n\n").find(R"({"error":)"), std::string::npos);
}

TEST(AnthropicToOpenAIStreamTest, RecordedToolUseStreamCarriesItsUsage) {
  AnthropicToOpenAIStream stream(1, true);
  const std::string out = feed_sse(stream, recorded("anthropic_messages_tool_use.sse"), 13);
  EXPECT_TRUE(stream.done());
  // message_start: 472 input, 4096 cache read, 2048 cache creation; message_delta: 89 output.
  EXPECT_NE(out.find(R"("usage":{"prompt_tokens":6616,"completion_tokens":89,"total_tokens":6705,"prompt_tokens_details":{"cached_tokens":4096}})"),
            std::string::npos)
      << out.substr(out.size() - 600);
  EXPECT_NE(out.find(R"("finish_reason":"tool_calls")"), std::string::npos);
}

}  // namespace
}  // namespace tollway::providers::translation
