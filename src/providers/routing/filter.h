// ProviderRouteFilter: chooses the upstream. select_upstream picks the provider for a request (the body's
// "model" against the model rules, else the route's default provider; on a fallback attempt the route's
// fallback entry, whose model replaces the body's), picks one of its endpoints through the provider's load
// balancer (when every endpoint is ejected: a 503 `circuit_open` failure if a fallback can serve, else the
// endpoint whose ejection ends first), and sets where the request goes: target under the endpoint's base path,
// Host. shape_upstream writes the chosen model into the body when it differs from the caller's (an alias, a
// fallback's model); it is the first filter to shape, so it edits the body ctx.body_fields was read from.
// It reads the body only through ctx.body_fields (providers::RequestBodyFilter): on a `body: raw` route the
// route's provider serves. Replies 400 in the caller's API format for a model served by a provider of the other
// API when the route's `translate` is off (otherwise TranslationFilter rewrites the request).
// A model alias (`models.aliases`) is served by its models in order: the first, then the others as fallbacks,
// then the route's own fallback entries.
// It never reads or writes sockets and never logs credentials.
#pragma once

#include <vector>

#include "config/gateway_config.h"
#include "pipeline/filter.h"
#include "pipeline/snapshot.h"
#include "providers/routing/route_choice.h"

namespace tollway::providers {

namespace asio = boost::asio;

class ProviderRouteFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the configuration. The route a request matched comes with it (RouteChoice).
  struct Config {
    std::vector<config::ProviderConfig> providers;  // indexed by the rules, routes and fallbacks
    std::vector<config::ModelRule> models;           // `models`: which provider serves a model, first match wins
    std::vector<config::ModelAlias> model_aliases;   // `models.aliases`
  };

  // `upstreams` holds one entry per provider, same index.
  ProviderRouteFilter(Config config, const std::vector<pipeline::ProviderUpstreams>& upstreams)
      : config_(std::move(config)), upstreams_(upstreams) {}

  std::string_view name() const override { return "provider_route"; }
  // Notes the alias the body's model names (RouteChoice) before admission counts it, and the candidates and
  // retries the driver plans attempts by (ctx.upstream_plan).
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> select_upstream(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;

 private:
  std::size_t provider_for(const pipeline::RequestCtx& ctx) const;
  Config config_;  // RouteChoice::alias points into its model_aliases
  const std::vector<pipeline::ProviderUpstreams>& upstreams_;  // owned by the snapshot that owns this filter
};

}  // namespace tollway::providers
