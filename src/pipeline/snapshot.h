// Snapshot: one validated configuration version with everything built from it (upstream endpoints, TLS
// contexts, the filter chain). Immutable and shared; requests keep the snapshot they started with.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "http/upstream_pool.h"
#include "pipeline/chain.h"
#include "providers/resilience/load_balancer.h"

namespace tollway::pipeline {

// An endpoint the gateway answers itself instead of proxying (token exchange, a JWKS document, ...): matched
// by exact path when no route matches; its handler fills ctx.reply and never talks to a provider.
struct LocalEndpoint {
  std::string path;
  uint64_t max_body = 64 * 1024;
  std::function<boost::asio::awaitable<void>(RequestCtx&)> handle;
};

// One provider's endpoints (same order as its config `endpoints`) and their load balancer.
struct ProviderUpstreams {
  std::vector<http::UpstreamEndpoint> endpoints;
  std::unique_ptr<providers::resilience::ProviderBalancer> balancer;
};

struct Snapshot {
  std::shared_ptr<const config::GatewayConfig> config;
  std::vector<ProviderUpstreams> upstreams;  // one per config provider, same index
  Chain chain;
  std::vector<LocalEndpoint> local_endpoints;
  uint64_t generation = 0;  // 1 for the first snapshot, +1 per applied reload
  std::chrono::system_clock::time_point loaded_at;
};

}  // namespace tollway::pipeline
