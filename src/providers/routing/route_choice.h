// RouteChoice: the configured route a gateway request matched (the role's classify, from the path alone) and the
// model alias its body names (ProviderRouteFilter, authorize phase); a pipeline::FeatureStates entry read by the
// gateway's filters. Views into the snapshot's configuration; never changed after the phase that wrote them.
#pragma once

#include "config/gateway_config.h"
#include "pipeline/request_ctx.h"

namespace tollway::providers {

struct RouteChoice {
  const config::RouteConfig* route = nullptr;  // null: no route matched (a local endpoint, an MCP server)
  const config::ModelAlias* alias = nullptr;   // null: the body names no alias
};

inline const config::RouteConfig* route_of(const pipeline::RequestCtx& ctx) {
  const RouteChoice* choice = ctx.features.find<RouteChoice>();
  return choice != nullptr ? choice->route : nullptr;
}

inline const config::ModelAlias* alias_of(const pipeline::RequestCtx& ctx) {
  const RouteChoice* choice = ctx.features.find<RouteChoice>();
  return choice != nullptr ? choice->alias : nullptr;
}

}  // namespace tollway::providers
