#include "demo/mock_provider.h"

#include <algorithm>
#include <chrono>

#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::demo {

namespace {

namespace sj = core::strict_json;

proxy::AdminResponse openai_error(int status, std::string_view message) {
  json::ObjectWriter error;
  error.field("message", message).field("type", "invalid_request_error");
  json::ObjectWriter body;
  body.raw_field("error", std::move(error).finish());
  return proxy::AdminResponse{status, "application/json", std::move(body).finish() + "\n", {}};
}

uint64_t count_words(std::string_view text) {
  uint64_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

}  // namespace

MockProvider::MockProvider(boost::asio::io_context& context, const std::string& usage_log)
    : log_(usage_log, std::ios::app) {
  const auto loopback = proxy::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  listener_ = std::make_unique<proxy::AdminListener>(
      context, loopback, proxy::AdminTimeouts{},
      [this](const proxy::AdminRequest& r) -> boost::asio::awaitable<proxy::AdminResponse> { co_return answer(r); });
  listener_->start();
}

ProviderTotals MockProvider::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

proxy::AdminResponse MockProvider::answer(const proxy::AdminRequest& request) {
  if (request.path != "/v1/chat/completions") return openai_error(404, "the demo's provider serves /v1/chat/completions");
  if (request.method != "POST") return openai_error(405, "use POST");
  std::string parse_error;
  const auto body = sj::parse(request.body, parse_error, sj::ParseLimits{1 << 20, 32});
  if (!body || !body->is_object()) return openai_error(400, "the body is not a JSON object: " + parse_error);
  const auto model = body->string_member("model");
  const sj::Value* messages = body->find("messages");
  if (!model || messages == nullptr || !messages->is_array() || messages->items().empty())
    return openai_error(400, "a chat completion needs a model and messages");
  if (const sj::Value* stream = body->find("stream"); stream != nullptr && stream->is_bool() && stream->as_bool())
    return openai_error(400, "the demo's provider answers JSON only (no stream)");
  uint64_t words = 0;
  for (const auto& m : messages->items())
    if (const auto content = m.string_member("content")) words += count_words(*content);
  uint64_t max_tokens = 64;
  if (const sj::Value* m = body->find("max_tokens"); m != nullptr && m->is_integer() && m->as_int() > 0)
    max_tokens = static_cast<uint64_t>(m->as_int());
  // 4 tokens of chat framing per message plus one per word; an answer of 6 + (words mod 11) tokens, capped.
  const uint64_t prompt_tokens = 4 * messages->items().size() + words;
  const uint64_t completion_tokens = std::min<uint64_t>(max_tokens, 6 + words % 11);

  uint64_t call = 0;
  {
    std::lock_guard lock(mutex_);
    call = ++totals_.calls;
    totals_.prompt_tokens += prompt_tokens;
    totals_.completion_tokens += completion_tokens;
    json::ObjectWriter line;
    line.field("call", call).field("model", *model).field("prompt_tokens", prompt_tokens)
        .field("completion_tokens", completion_tokens);
    log_ << std::move(line).finish() << '\n';
    log_.flush();
  }
  std::string content;
  for (uint64_t i = 0; i < completion_tokens; ++i) content += i == 0 ? "answer" : " token";
  json::ObjectWriter message;
  message.field("role", "assistant").field("content", content);
  json::ObjectWriter choice;
  choice.field("index", 0).raw_field("message", std::move(message).finish()).field("finish_reason", "stop");
  json::ObjectWriter usage;
  usage.field("prompt_tokens", prompt_tokens).field("completion_tokens", completion_tokens)
      .field("total_tokens", prompt_tokens + completion_tokens);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  json::ObjectWriter out;
  out.field("id", "chatcmpl-demo-" + std::to_string(call)).field("object", "chat.completion")
      .field("created", static_cast<int64_t>(now)).field("model", *model)
      .raw_field("choices", "[" + std::move(choice).finish() + "]").raw_field("usage", std::move(usage).finish());
  return proxy::AdminResponse{200, "application/json", std::move(out).finish(), {}};
}

}  // namespace tollway::demo
