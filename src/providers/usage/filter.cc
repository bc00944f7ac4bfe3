#include "providers/usage/filter.h"

#include <deque>

#include "core/log.h"
#include "http/sse.h"
#include "providers/request_fields.h"
#include "providers/translation/translation_state.h"
#include "providers/usage/extract.h"
#include "providers/usage/gemini_usage.h"
#include "tokens/encoding.h"

namespace tollway::providers {
namespace {

constexpr std::size_t kMaxJsonBody = 16 * 1024 * 1024;  // larger JSON bodies are relayed, usage estimated

UsageShape shape_of(const pipeline::RequestCtx& ctx) {
  if (ctx.upstream.api == config::Api::Gemini) return gemini_usage_shape(ctx.upstream.target);
  return usage_shape_for(ctx.upstream.api == config::Api::Anthropic, ctx.upstream.target);
}

void apply(pipeline::Usage& usage, const TokenCounts& c) {
  usage.input_tokens = c.input_tokens;
  usage.output_tokens = c.output_tokens;
  usage.cached_input_tokens = c.cached_input_tokens;
  usage.cache_creation_input_tokens = c.cache_creation_input_tokens;
  usage.reasoning_tokens = c.reasoning_tokens;
}

// A JSON response: relayed unchanged, read whole at the end.
class JsonUsageTransformer final : public pipeline::ResponseBodyTransformer {
 public:
  JsonUsageTransformer(const UsageFilter& filter, pipeline::RequestCtx& ctx, UsageShape shape)
      : filter_(filter), ctx_(ctx), shape_(shape) {}
  void transform(std::string_view in, bool last, std::string& out) override {
    out.append(in);
    if (body_.size() + in.size() <= kMaxJsonBody) body_.append(in);
    else too_large_ = true;
    if (!last) return;
    if (!too_large_) {
      if (auto counts = usage_from_response(shape_, body_)) {
        apply(ctx_.usage, *counts);
        ctx_.usage.known = true;
        filter_.price(ctx_);
        return;
      }
    }
    filter_.estimate(ctx_, 0);
  }
  bool changes_length() const override { return false; }

 private:
  const UsageFilter& filter_;
  pipeline::RequestCtx& ctx_;
  UsageShape shape_;
  std::string body_;
  bool too_large_ = false;
};

// An SSE response: every event passes unchanged, except the usage-only chunk the gateway asked for on the
// caller's behalf, which is removed whole (its bytes, nothing else).
class SseUsageTransformer final : public pipeline::ResponseBodyTransformer {
 public:
  SseUsageTransformer(const UsageFilter& filter, pipeline::RequestCtx& ctx, UsageShape shape, bool remove_usage_chunk)
      : filter_(filter), ctx_(ctx), reader_(shape, filter.output_encoding(ctx)), remove_(remove_usage_chunk) {}

  void transform(std::string_view in, bool last, std::string& out) override {
    if (!remove_) {
      out.append(in);
      sse_.feed(in, [&](const http::SseEvent& e) { reader_.on_event(e); });
    } else {
      held_.append(in);
      sse_.feed(in, [&](const http::SseEvent& e) {
        if (reader_.on_event(e)) drops_.push_back({e.begin, e.end, e.ended_with_cr});
      });
      release(last ? sse_.offset() : sse_.pending_block_begin(), out);
    }
    if (last) finish();
  }
  bool changes_length() const override { return remove_; }
  bool wants_more_after_client_gone() const override { return !reader_.usage_known() && !reader_.finished(); }

 private:
  struct Drop {
    uint64_t begin, end;
    bool lf_may_follow;
  };
  // Sends held bytes up to stream offset `upto`, leaving out dropped events.
  void release(uint64_t upto, std::string& out) {
    uint64_t at = held_from_;
    while (at < upto) {
      if (skip_lf_at_ == at) {
        skip_lf_at_ = UINT64_MAX;
        if (held_[at - held_from_] == '\n') {
          ++at;
          continue;
        }
      }
      if (!drops_.empty() && drops_.front().begin == at) {
        const Drop d = drops_.front();
        drops_.pop_front();
        at = d.end;
        if (d.lf_may_follow) skip_lf_at_ = d.end;
        continue;
      }
      const uint64_t stop = std::min(upto, drops_.empty() ? upto : drops_.front().begin);
      out.append(held_, at - held_from_, stop - at);
      at = stop;
    }
    held_.erase(0, at - held_from_);
    held_from_ = at;
  }

  void finish() {
    pipeline::Usage& u = ctx_.usage;
    u.error_event = reader_.error_type();
    if (reader_.usage_known()) {
      apply(u, reader_.counts());
      u.known = true;
      filter_.price(ctx_);
      return;
    }
    filter_.estimate(ctx_, reader_.output_tokens());
    if (reader_.input_known()) {  // Anthropic message_start: the prompt side is exact
      const TokenCounts& c = reader_.counts();
      u.input_tokens = c.input_tokens;
      u.cached_input_tokens = c.cached_input_tokens;
      u.cache_creation_input_tokens = c.cache_creation_input_tokens;
      u.output_tokens = std::max(u.output_tokens, c.output_tokens);
      filter_.price(ctx_);
    }
  }

  const UsageFilter& filter_;
  pipeline::RequestCtx& ctx_;
  http::SseReader sse_;
  StreamUsageReader reader_;
  bool remove_;
  std::string held_;        // bytes not yet released, starting at stream offset held_from_
  uint64_t held_from_ = 0;
  std::deque<Drop> drops_;
  uint64_t skip_lf_at_ = UINT64_MAX;
};

bool is_event_stream(const http::ResponseHead& head) {
  for (const auto& h : head.headers)
    if (http::iequals(h.name, "content-type")) return h.value.find("text/event-stream") != std::string_view::npos;
  return false;
}

}  // namespace

UsageFilter::UsageFilter(Config config) : config_(std::move(config)), prices_(config_.pricing) {}

asio::awaitable<pipeline::Verdict> UsageFilter::shape_upstream(pipeline::RequestCtx& ctx) {
  // A translated body asks for usage itself (providers::TranslationFilter).
  if (ctx.upstream.endpoint == nullptr || !ctx.request.stream || shape_of(ctx) != UsageShape::OpenAIChat ||
      translating(ctx) || !ctx.body_fields)
    co_return pipeline::Verdict::Continue;
  if (!ctx.body_fields->include_usage.value_or(false)) {
    set_include_usage(ctx.body, *ctx.body_fields);
    ctx.request.include_usage_added = true;
  }
  co_return pipeline::Verdict::Continue;
}

std::unique_ptr<pipeline::ResponseBodyTransformer> UsageFilter::response_body(pipeline::RequestCtx& ctx,
                                                                              const http::ResponseHead& head) {
  const UsageShape shape = shape_of(ctx);
  if (shape == UsageShape::None || head.status < 200 || head.status >= 300) return nullptr;
  if (is_event_stream(head))
    return std::make_unique<SseUsageTransformer>(*this, ctx, shape, ctx.request.include_usage_added);
  return std::make_unique<JsonUsageTransformer>(*this, ctx, shape);
}

tokens::EncodingName UsageFilter::output_encoding(const pipeline::RequestCtx& ctx) const {
  return shape_of(ctx) == UsageShape::AnthropicMessages ? estimator_.anthropic_encoding()
                                                         : estimator_.models().encoding_for(ctx.model);
}

void UsageFilter::estimate(pipeline::RequestCtx& ctx, uint64_t output_tokens) const {
  pipeline::Usage& u = ctx.usage;
  tokens::PromptEstimate prompt;
  const UsageShape shape = shape_of(ctx);
  if (shape == UsageShape::AnthropicMessages) prompt = estimator_.estimate_anthropic_messages(ctx.body);
  else if (shape == UsageShape::OpenAIResponses) prompt = estimator_.estimate_openai_responses(ctx.body);
  else prompt = estimator_.estimate_openai_chat(ctx.body);
  u.input_tokens = prompt.ok ? prompt.tokens : (ctx.body.size() + 3) / 4;
  u.output_tokens = output_tokens;
  u.known = false;
  u.estimated = true;
  price(ctx);
}

void UsageFilter::price(pipeline::RequestCtx& ctx) const {
  pipeline::Usage& u = ctx.usage;
  TokenCounts c{u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cache_creation_input_tokens,
                u.reasoning_tokens};
  const PricedCall priced = prices_.cost(ctx.model, c);
  u.cost_micro_usd = priced.cost_micro_usd;
  u.priced_at_default = priced.default_price;
}

void UsageFilter::log(const pipeline::RequestCtx& ctx) {
  if (!ctx.outcome.upstream_contacted || !config_.log_calls) return;
  const pipeline::Usage& u = ctx.usage;
  json::ObjectWriter w;
  w.field("request_id", ctx.request_id)
      .field("provider", ctx.upstream.provider)
      .field("model", ctx.model)
      .field("status", ctx.outcome.status)
      .field("stream", ctx.request.stream)
      .field("usage_known", u.known)
      .field("usage_estimated", u.estimated)
      .field("input_tokens", u.input_tokens)
      .field("output_tokens", u.output_tokens)
      .field("cached_input_tokens", u.cached_input_tokens)
      .field("cache_creation_input_tokens", u.cache_creation_input_tokens)
      .field("reasoning_tokens", u.reasoning_tokens)
      .field("cost_micro_usd", u.cost_micro_usd)
      .field("priced_at_default", u.priced_at_default);
  if (!u.error_event.empty()) w.field("error_event", u.error_event);
  if (ctx.request.include_usage_added) w.field("include_usage_added", true);
  log::info("usage", w);
}

}  // namespace tollway::providers
