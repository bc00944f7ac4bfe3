// UpstreamHealthRegistry: the process-lifetime home of every endpoint's EndpointHealth (keyed by provider name
// and endpoint URL, so ejections, in-flight counts and latency averages survive config reloads) and of the
// retry / fallback counters per provider; renders them for /metrics. Snapshots look records up while they are
// built (control thread, under a mutex); requests only touch the records' atomics. It never decides anything.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/gateway_config.h"
#include "providers/resilience/attempt_plan.h"
#include "providers/resilience/load_balancer.h"
#include "providers/resilience/provider_counters.h"

namespace tollway::providers::resilience {

class UpstreamHealthRegistry {
 public:
  // One balancer per provider of `config`, in the same order, with the process-lifetime health records; the
  // endpoints shown in /metrics become exactly these.
  std::vector<std::unique_ptr<ProviderBalancer>> balancers_for(const config::GatewayConfig& config);
  // Prometheus text: tollway_upstream_endpoint_state, _in_flight, _latency_ewma_seconds, _ejections_total,
  // tollway_upstream_retries_total, tollway_upstream_fallbacks_total.
  void render_metrics(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<EndpointHealth>> endpoints_;
  std::map<std::string, std::unique_ptr<ProviderCounters>> counters_;
  std::vector<std::shared_ptr<EndpointHealth>> active_;  // the latest config's endpoints, for /metrics
};

}  // namespace tollway::providers::resilience
