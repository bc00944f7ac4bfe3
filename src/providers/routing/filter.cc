#include "providers/routing/filter.h"

#include <algorithm>
#include <chrono>

#include "core/glob.h"
#include "providers/error_body.h"
#include "providers/request_fields.h"
#include "providers/routing/upstream_target.h"

namespace tollway::providers {
namespace {

// Every endpoint of the provider is ejected and a fallback can serve: nothing is sent, the driver moves on.
pipeline::Verdict reply_circuit_open(pipeline::RequestCtx& ctx, const config::ProviderConfig& provider,
                                     std::chrono::steady_clock::duration until_probe) {
  const auto seconds = std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(until_probe).count());
  ctx.reply.headers.emplace_back("retry-after", std::to_string(seconds));
  ctx.outcome.failure = resilience::AttemptFailure::CircuitOpen;
  return pipeline::reply_error(ctx, 503,
                     "Provider \"" + provider.name + "\" is unavailable: every endpoint failed repeatedly and is "
                     "ejected by the circuit breaker (next probe in about " + std::to_string(seconds) + " s).",
                     "upstream_unavailable");
}

bool gemini_involved(config::Api a, config::Api b) { return a == config::Api::Gemini || b == config::Api::Gemini; }

std::string api_description(config::Api api) {
  switch (api) {
    case config::Api::Anthropic: return "Anthropic Messages API (POST /v1/messages)";
    case config::Api::Gemini: return "Gemini API (POST /v1beta/models/{model}:generateContent)";
    default: return "OpenAI API (e.g. POST /v1/chat/completions)";
  }
}

}  // namespace

std::size_t ProviderRouteFilter::provider_for(const pipeline::RequestCtx& ctx) const {
  if (!ctx.model.empty()) {
    for (const auto& rule : config_.models)
      if (glob_match(rule.pattern, ctx.model)) return rule.provider;
  }
  return route_of(ctx)->provider;
}

asio::awaitable<pipeline::Verdict> ProviderRouteFilter::authorize(pipeline::RequestCtx& ctx) {
  RouteChoice& choice = ctx.features.get<RouteChoice>();
  if (ctx.body_fields && ctx.body_fields->model)
    choice.alias = config::find_model_alias(config_.model_aliases, *ctx.body_fields->model);
  // An alias's models come first (its first model is candidate 0), then the route's fallback chain.
  if (choice.route != nullptr)
    ctx.upstream_plan = {&choice.route->retries,
                         (choice.alias ? choice.alias->models.size() : 1) + choice.route->fallback.size()};
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> ProviderRouteFilter::select_upstream(pipeline::RequestCtx& ctx) {
  const std::optional<RequestFields>& fields = ctx.body_fields;
  if (fields) {
    if (fields->model) ctx.model = *fields->model;
    ctx.request.max_output_tokens = fields->max_output_tokens;
    ctx.request.stream = fields->stream;
    ctx.request.tool_count = fields->tool_count;
    if (fields->user) ctx.request.user = *fields->user;
  }
  const config::RouteConfig& route = *route_of(ctx);
  const config::ModelAlias* alias = alias_of(ctx);
  std::size_t index = provider_for(ctx);
  const std::size_t group = alias ? alias->models.size() : 1;
  if (alias && ctx.attempt.candidate < group && fields && fields->model) {
    // One of the alias's models, served by the provider its model rule names.
    const std::string& model = alias->models[ctx.attempt.candidate];
    index = config::provider_of_model(config_.models, model).value_or(route.provider);
    ctx.model = model;
  } else if (ctx.attempt.candidate >= group && ctx.attempt.candidate - group < route.fallback.size()) {
    // A fallback attempt goes to the route's fallback entry, with the entry's model when it names one.
    const config::FallbackTarget& fallback = route.fallback[ctx.attempt.candidate - group];
    index = fallback.provider;
    if (!fallback.model.empty() && fields && fields->model) ctx.model = fallback.model;
  }
  const config::ProviderConfig& provider = config_.providers[index];
  // A model of the other API: providers::TranslationFilter rewrites the request, unless the route refuses it.
  if (provider.api != ctx.api && (!route.translate || gemini_involved(provider.api, ctx.api))) {
    co_return pipeline::reply_error(
        ctx, 400,
        "Model \"" + ctx.model + "\" is served by provider \"" + provider.name + "\", which speaks the " +
            api_description(provider.api) + "; send the request in that format (" +
            (gemini_involved(provider.api, ctx.api) ? "Gemini requests are never translated"
                                                    : "translation is off for this route") + ").",
        "model_api_mismatch");
  }
  auto& up = ctx.upstream;
  up.provider = provider.name;
  up.api = provider.api;
  // The endpoint, by the provider's load-balancing policy among those its circuit breakers admit.
  const pipeline::ProviderUpstreams& upstreams = upstreams_[index];
  up.balancer = upstreams.balancer.get();
  const auto now = std::chrono::steady_clock::now();
  auto lease = up.balancer->pick(now, ctx.attempt.avoid);
  if (!lease) {
    // Every endpoint is ejected: fail fast when a fallback can serve, otherwise try anyway (panic).
    if (ctx.attempt.plan != nullptr &&
        ctx.attempt.plan->would_try_again(resilience::AttemptFailure::CircuitOpen, now))
      co_return reply_circuit_open(ctx, provider, up.balancer->next_probe_time() - now);
    lease = up.balancer->pick_in_panic();
  }
  const config::EndpointConfig& endpoint = provider.endpoints[lease->index()];
  up.endpoint = &upstreams.endpoints[lease->index()];
  up.lease = std::move(*lease);
  shape_upstream_target(provider, endpoint, ctx);  // Azure deployment URLs, Gemini's model in the path
  const bool default_port = endpoint.port == (endpoint.tls ? 443 : 80);
  const bool ipv6_literal = endpoint.host.find(':') != std::string::npos;
  up.host_header.clear();
  if (ipv6_literal) up.host_header.append("[").append(endpoint.host).append("]");
  else up.host_header.append(endpoint.host);
  if (!default_port) up.host_header.append(":").append(std::to_string(endpoint.port));
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> ProviderRouteFilter::shape_upstream(pipeline::RequestCtx& ctx) {
  // An alias's model, a fallback entry's model or an Azure deployment replaces the one the caller named.
  if (ctx.upstream.endpoint != nullptr && ctx.body_fields) set_model(ctx.body, *ctx.body_fields, ctx.upstream.body_model);
  co_return pipeline::Verdict::Continue;
}

}  // namespace tollway::providers
