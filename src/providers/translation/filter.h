// TranslationFilter: lets an OpenAI chat-completions caller use a model served by an Anthropic provider, and an
// Anthropic Messages caller use a model served by an OpenAI-compatible provider. shape_upstream (after
// ProviderRouteFilter chose the provider, which lets a cross-API request through only when the route's
// `translate` is on): rewrites ctx.body into the provider's API and ctx.upstream.target to the provider's
// endpoint (/v1/messages or /v1/chat/completions under its base path), drops caller headers of the other API,
// and replies 400 in the caller's format for a body it cannot translate. Response: rewrites the provider's JSON
// body or SSE events into the caller's API, and error bodies (any non-2xx) into the caller's error format with
// the same status. It must sit before UsageFilter in the chain: usage shapes the translated request, and usage's
// transformer, nearer the provider, reads the provider's own bytes before this filter's transformer rewrites
// them. It never forwards a request with a feature dropped, never touches credentials (CredentialFilter injects
// the provider's own) and never blocks.
#pragma once

#include <memory>

#include "config/gateway_config.h"
#include "pipeline/filter.h"
#include "providers/translation/translation_state.h"

namespace tollway::providers {

namespace asio = boost::asio;

class TranslationFilter final : public pipeline::Filter {
 public:
  std::string_view name() const override { return "translation"; }
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                    const http::ResponseHead& head) override;
  // A held 429/5xx from the provider: its error body in the caller's format.
  void on_held_response(pipeline::RequestCtx& ctx, pipeline::Reply& reply) override;
};

}  // namespace tollway::providers
