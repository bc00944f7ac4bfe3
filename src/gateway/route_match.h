// Finds the configured route for a request path: an exact `path` first, then the longest `prefix`.
// Pure lookup over the snapshot's config; never allocates and never consults the body.
#pragma once

#include <string_view>

#include "config/gateway_config.h"

namespace tollway::gateway {

inline const config::RouteConfig* match_route(const config::GatewayConfig& config, std::string_view path) {
  const config::RouteConfig* best_prefix = nullptr;
  for (const auto& r : config.routes) {
    if (!r.is_prefix) {
      if (r.path == path) return &r;
    } else if (path.starts_with(r.path) && (!best_prefix || r.path.size() > best_prefix->path.size())) {
      best_prefix = &r;
    }
  }
  return best_prefix;
}

}  // namespace tollway::gateway
