#include "providers/routing/filter.h"

#include "core/glob.h"
#include "providers/error_body.h"
#include "providers/request_fields.h"

namespace tollway::providers {
namespace {

pipeline::Verdict reply_error(pipeline::RequestCtx& ctx, int status, std::string message, std::string_view code) {
  ctx.reply.status = status;
  ctx.reply.body = error_body(ctx.api, status, message, code);
  ctx.outcome.error = std::move(message);
  ctx.outcome.error_code = code;
  return pipeline::Verdict::Replied;
}

// The provider APIs take JSON bodies; only uploads (multipart, raw bytes) are passed through unread.
bool body_is_json(const pipeline::RequestCtx& ctx) {
  if (ctx.body.empty()) return false;
  const auto type = ctx.head->find("content-type");
  return !type || !(type->starts_with("multipart/") || type->starts_with("application/octet-stream"));
}

}  // namespace

std::size_t ProviderRouteFilter::provider_for(const pipeline::RequestCtx& ctx) const {
  if (!ctx.model.empty()) {
    for (const auto& rule : config_->models)
      if (glob_match(rule.pattern, ctx.model)) return rule.provider;
  }
  return ctx.route->provider;
}

asio::awaitable<pipeline::Verdict> ProviderRouteFilter::route(pipeline::RequestCtx& ctx) {
  if (body_is_json(ctx)) {
    std::string error;
    auto fields = read_request_fields(ctx.body, error);
    if (!fields) co_return reply_error(ctx, 400, "Invalid request body: " + error, "invalid_json");
    if (fields->model) ctx.model = *fields->model;
    ctx.request.max_output_tokens = fields->max_output_tokens;
    ctx.request.stream = fields->stream;
    ctx.request.tool_count = fields->tool_count;
    if (fields->user) ctx.request.user = *fields->user;
  }
  const std::size_t index = provider_for(ctx);
  const config::ProviderConfig& provider = config_->providers[index];
  // A model of the other API: providers::TranslationFilter rewrites the request, unless the route refuses it.
  if (provider.api != ctx.api && !ctx.route->translate) {
    co_return reply_error(
        ctx, 400,
        "Model \"" + ctx.model + "\" is served by provider \"" + provider.name + "\", which speaks the " +
            (provider.api == config::Api::Anthropic ? "Anthropic Messages API (POST /v1/messages)"
                                                    : "OpenAI API (e.g. POST /v1/chat/completions)") +
            "; send the request in that format (translation is off for this route).",
        "model_api_mismatch");
  }
  auto& up = ctx.upstream;
  up.endpoint = &upstreams_[index];
  up.provider = provider.name;
  up.api = provider.api;
  up.target = provider.path_prefix + std::string(ctx.head->target);
  const bool default_port = provider.port == (provider.tls ? 443 : 80);
  up.host_header = provider.host.find(':') != std::string::npos ? "[" + provider.host + "]" : provider.host;
  if (!default_port) up.host_header += ":" + std::to_string(provider.port);
  co_return pipeline::Verdict::Continue;
}

}  // namespace tollway::providers
