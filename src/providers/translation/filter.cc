#include "providers/translation/filter.h"

#include <chrono>

#include "http/sse.h"
#include "providers/error_body.h"
#include "providers/translation/anthropic_to_openai.h"
#include "providers/translation/error_translation.h"
#include "providers/translation/openai_to_anthropic.h"

namespace tollway::providers {
namespace {

using translation::TranslatedRequest;
using translation::TranslationError;

constexpr std::size_t kMaxResponseBody = 16 * 1024 * 1024;  // a larger JSON answer is replaced by an error

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Buffers a whole body and rewrites it at the end.
class WholeBodyTransformer final : public pipeline::ResponseBodyTransformer {
 public:
  using Rewrite = std::string (*)(const pipeline::RequestCtx&, int status, std::string_view body);
  WholeBodyTransformer(const pipeline::RequestCtx& ctx, int status, Rewrite rewrite)
      : ctx_(ctx), status_(status), rewrite_(rewrite) {}
  void transform(std::string_view in, bool last, std::string& out) override {
    if (body_.size() + in.size() <= kMaxResponseBody) body_.append(in);
    else too_large_ = true;
    if (!last) return;
    if (too_large_) {
      out += error_body(ctx_.api, 502, "The provider's answer is too large to translate.", "translation_failed");
      return;
    }
    out += rewrite_(ctx_, status_, body_);
  }
  bool changes_length() const override { return true; }

 private:
  const pipeline::RequestCtx& ctx_;
  int status_;
  Rewrite rewrite_;
  std::string body_;
  bool too_large_ = false;
};

std::string rewrite_error(const pipeline::RequestCtx& ctx, int status, std::string_view body) {
  return translation::caller_error_body(ctx.api, status, ctx.upstream.provider, body);
}

// A 2xx JSON answer. One that cannot be read (not the provider's answer shape) becomes an error body in the
// caller's format; its status (already sent) stays the provider's.
std::string rewrite_success(const pipeline::RequestCtx& ctx, int /*status*/, std::string_view body) {
  std::optional<std::string> out =
      ctx.api == config::Api::OpenAI ? translation::anthropic_message_to_openai_completion(body, unix_now())
                                     : translation::openai_completion_to_anthropic_message(body);
  if (out) return std::move(*out);
  return error_body(ctx.api, 502,
                    "The provider's answer could not be translated (not a complete " +
                        std::string(ctx.api == config::Api::OpenAI ? "Anthropic Message" : "chat completion with JSON tool arguments") +
                        ").",
                    "translation_failed");
}

template <typename Stream>
class StreamTransformer final : public pipeline::ResponseBodyTransformer {
 public:
  template <typename... Args>
  explicit StreamTransformer(Args&&... args) : stream_(std::forward<Args>(args)...) {}
  void transform(std::string_view in, bool last, std::string& out) override {
    sse_.feed(in, [&](const http::SseEvent& e) { stream_.on_event(e, out); });
    if (last) stream_.finish(out);
  }
  bool changes_length() const override { return true; }

 private:
  http::SseReader sse_;
  Stream stream_;
};

bool is_event_stream(const http::ResponseHead& head) {
  for (const auto& h : head.headers)
    if (http::iequals(h.name, "content-type")) return h.value.find("text/event-stream") != std::string_view::npos;
  return false;
}

}  // namespace

asio::awaitable<pipeline::Verdict> TranslationFilter::shape_upstream(pipeline::RequestCtx& ctx) {
  ctx.features.reset<Translation>();  // an earlier attempt's (retries and fallbacks shape again)
  pipeline::UpstreamRequest& up = ctx.upstream;
  if (up.endpoint == nullptr || up.api == ctx.api) co_return pipeline::Verdict::Continue;
  const bool to_anthropic = up.api == config::Api::Anthropic;
  const std::string_view target = ctx.head->target;
  const std::string_view path = path_of(target);
  const std::string_view caller_endpoint = to_anthropic ? "/chat/completions" : "/messages";
  if (ctx.head->method != "POST" || !path.ends_with(caller_endpoint)) {
    co_return pipeline::reply_error(
        ctx, 400,
        "Model \"" + ctx.model + "\" is served by provider \"" + up.provider + "\", which speaks the " +
            (to_anthropic ? "Anthropic Messages API; only POST /v1/chat/completions is translated to it"
                          : "OpenAI API; only POST /v1/messages is translated to it") +
            ".",
        "translation_unsupported");
  }
  TranslationError error;
  std::optional<TranslatedRequest> translated = to_anthropic
                                                    ? translation::openai_chat_to_anthropic_request(ctx.body, error)
                                                    : translation::anthropic_to_openai_chat_request(ctx.body, error);
  if (!translated) {
    co_return pipeline::reply_error(ctx, 400, "Cannot translate this request for provider \"" + up.provider + "\": " + error.message,
                          error.unsupported ? "translation_unsupported" : "invalid_request");
  }
  ctx.body = std::move(translated->body);
  ctx.request.max_output_tokens = translated->max_tokens;
  ctx.request.stream = translated->stream;
  ctx.features.get<Translation>() = {.active = true, .include_usage = translated->include_usage};
  // ProviderRouteFilter put the caller's target under the provider's base path: keep that base, swap the path.
  // (A target it shaped for the provider's own URLs, Azure OpenAI's, already names the translated endpoint.)
  if (up.target.ends_with(target))
    up.target = up.target.substr(0, up.target.size() - target.size()) + (to_anthropic ? "/v1/messages" : "/v1/chat/completions");
  // Headers that belong to the caller's API only.
  if (to_anthropic) up.drop_headers.insert(up.drop_headers.end(), {"openai-organization", "openai-project", "openai-beta"});
  else up.drop_headers.insert(up.drop_headers.end(), {"anthropic-version", "anthropic-beta",
                                                      "anthropic-dangerous-direct-browser-access"});
  co_return pipeline::Verdict::Continue;
}

std::unique_ptr<pipeline::ResponseBodyTransformer> TranslationFilter::response_body(pipeline::RequestCtx& ctx,
                                                                                    const http::ResponseHead& head) {
  if (!translating(ctx)) return nullptr;
  const Translation* translation = ctx.features.find<Translation>();
  if (head.status < 200 || head.status >= 300)
    return std::make_unique<WholeBodyTransformer>(ctx, head.status, &rewrite_error);
  if (is_event_stream(head)) {
    if (ctx.api == config::Api::OpenAI)
      return std::make_unique<StreamTransformer<translation::AnthropicToOpenAIStream>>(unix_now(),
                                                                                         translation->include_usage);
    return std::make_unique<StreamTransformer<translation::OpenAIToAnthropicStream>>();
  }
  return std::make_unique<WholeBodyTransformer>(ctx, head.status, &rewrite_success);
}

void TranslationFilter::on_held_response(pipeline::RequestCtx& ctx, pipeline::Reply& reply) {
  if (!translating(ctx)) return;
  reply.body = translation::caller_error_body(ctx.api, reply.status, ctx.upstream.provider, reply.body);
  reply.content_type.clear();  // application/json
}

}  // namespace tollway::providers
