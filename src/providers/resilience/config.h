// Readers of the resilience keys (docs/configuration.md): a provider's `base_url` | `endpoints`,
// `load_balancing` and `breaker`, and a route's `retries` and `fallback`. They only validate and convert,
// reporting every error with file:line; they never pick an endpoint or retry anything themselves.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/gateway_config.h"
#include "config/validator.h"

namespace tollway::config {

// `n` is the provider's mapping, `path` its key path ("providers.openai"). Fills p.endpoints (and p's
// tls/host/port/path_prefix from the first one), p.load_balancing and p.breaker.
void read_provider_endpoints(Validator& v, const YAML::Node& n, const std::string& path, ProviderConfig& p);

// `n` is the route's mapping, `path` its key path ("routes[0]"). Fills r.retries and r.fallback; fallback
// providers are looked up in c.providers.
void read_route_resilience(Validator& v, const YAML::Node& n, const std::string& path, const GatewayConfig& c,
                           RouteConfig& r);

}  // namespace tollway::config
