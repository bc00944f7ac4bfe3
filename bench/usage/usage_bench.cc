// bench/usage: usage extraction per non-streaming response and per SSE frame, each beside a reference that
// reads the same bytes in the same run (simdjson DOM parse of the body; memchr scan of the stream for event
// ends), so docs/benchmarks.md can report a ratio. Run: build/<dir>/bench/usage/usage_bench
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "http/sse.h"
#include "providers/usage/extract.h"

namespace {

using namespace tollway;

std::string recorded(const char* name) {
  std::ifstream in(std::string(TOLLWAY_RECORDED_DIR) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A typical chat completion body (~1 KB: one choice with a paragraph, usage with details).
const std::string kChatResponse = [] {
  std::string text;
  for (int i = 0; i < 12; ++i) text += "The gateway reads the usage without building a DOM. ";
  return std::string(R"({"id":"chatcmpl-BXf2rQ1mZkqg8yT9aHc7uVnP0sJd","object":"chat.completion","created":1747000000,)") +
         R"("model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":")" + text +
         R"(","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1342,)"
         R"("completion_tokens":128,"total_tokens":1470,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},)"
         R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,)"
         R"("rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_7fcd609668"})";
}();

void BM_UsageFromResponse_Tollway(benchmark::State& state) {
  for (auto _ : state) {
    auto u = providers::usage_from_response(providers::UsageShape::OpenAIChat, kChatResponse);
    benchmark::DoNotOptimize(u);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * kChatResponse.size());
}
BENCHMARK(BM_UsageFromResponse_Tollway);

void BM_UsageFromResponse_ReferenceSimdjsonDom(benchmark::State& state) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(kChatResponse);
  for (auto _ : state) {
    simdjson::dom::element doc;
    auto error = parser.parse(padded).get(doc);
    uint64_t prompt = 0;
    if (!error) error = doc["usage"]["prompt_tokens"].get(prompt);
    benchmark::DoNotOptimize(prompt);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * kChatResponse.size());
}
BENCHMARK(BM_UsageFromResponse_ReferenceSimdjsonDom);

void stream_usage(benchmark::State& state, const char* file, providers::UsageShape shape) {
  const std::string stream = recorded(file);
  // The reader counts the output text's tokens as it streams, as the gateway does.
  const auto output_encoding = tokens::EncodingName::O200kBase;
  uint64_t frames = 0;
  for (auto _ : state) {
    http::SseReader sse;
    providers::StreamUsageReader reader(shape, output_encoding);
    // Provider reads arrive in pieces: feed 512-byte reads.
    for (std::size_t i = 0; i < stream.size(); i += 512)
      sse.feed(std::string_view(stream).substr(i, 512), [&](const http::SseEvent& e) { reader.on_event(e); });
    frames += sse.events();
    benchmark::DoNotOptimize(reader.counts());
  }
  state.SetItemsProcessed(frames);  // items/s = SSE frames per second
  state.SetBytesProcessed(state.iterations() * stream.size());
}

void memchr_frames(benchmark::State& state, const char* file) {
  const std::string stream = recorded(file);
  uint64_t frames = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < stream.size(); i += 512) {
      const std::string_view piece = std::string_view(stream).substr(i, 512);
      const char* p = piece.data();
      const char* end = piece.data() + piece.size();
      while (const void* hit = std::memchr(p, '\n', end - p)) {
        p = static_cast<const char*>(hit) + 1;
        if (p < end && *p == '\n') ++frames;
      }
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(state.iterations() * stream.size());
}

void BM_StreamUsage_OpenAIChat_Tollway(benchmark::State& s) {
  stream_usage(s, "openai_chat_logprobs_usage.sse", providers::UsageShape::OpenAIChat);
}
void BM_StreamUsage_OpenAIChat_ReferenceMemchr(benchmark::State& s) { memchr_frames(s, "openai_chat_logprobs_usage.sse"); }
void BM_StreamUsage_Anthropic_Tollway(benchmark::State& s) {
  stream_usage(s, "anthropic_messages_tool_use.sse", providers::UsageShape::AnthropicMessages);
}
void BM_StreamUsage_Anthropic_ReferenceMemchr(benchmark::State& s) { memchr_frames(s, "anthropic_messages_tool_use.sse"); }
BENCHMARK(BM_StreamUsage_OpenAIChat_Tollway);
BENCHMARK(BM_StreamUsage_OpenAIChat_ReferenceMemchr);
BENCHMARK(BM_StreamUsage_Anthropic_Tollway);
BENCHMARK(BM_StreamUsage_Anthropic_ReferenceMemchr);

}  // namespace

BENCHMARK_MAIN();
