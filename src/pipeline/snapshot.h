// Snapshot: one validated configuration version with everything built from it (upstream endpoints, TLS
// contexts, the filter chain). Immutable and shared; requests keep the snapshot they started with.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "http/upstream_pool.h"
#include "pipeline/chain.h"

namespace tollway::pipeline {

struct Snapshot {
  std::shared_ptr<const config::GatewayConfig> config;
  std::vector<http::UpstreamEndpoint> upstreams;  // one per config provider, same index
  Chain chain;
  uint64_t generation = 0;  // 1 for the first snapshot, +1 per applied reload
  std::chrono::system_clock::time_point loaded_at;
};

}  // namespace tollway::pipeline
