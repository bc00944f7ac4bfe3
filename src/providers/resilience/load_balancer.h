// ProviderBalancer: picks the endpoint of one provider for each upstream attempt by the provider's
// `load_balancing` policy — weighted round robin, least requests in flight (per weight), or latency EWMA ×
// (in flight + 1) (per weight) — among the endpoints whose breaker admits a request, and hands out an
// EndpointLease that counts the request as in flight until it ends and reports how it ended. Built once per
// snapshot; the health records it points to are process-lifetime (UpstreamHealthRegistry). Lock-free on the
// request path. It never retries and never talks to the network.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "config/resilience_config.h"
#include "providers/resilience/endpoint_health.h"

namespace tollway::providers::resilience {

struct ProviderCounters;

// One request's use of one endpoint: in flight from pick() until the lease ends; finish() reports the verdict
// to the breaker (and logs any transition). A probe whose lease ends without a verdict lets the next request
// probe. Move-only.
class EndpointLease {
 public:
  EndpointLease() = default;
  EndpointLease(EndpointHealth* health, std::size_t index, bool probe, const config::BreakerConfig* policy,
                bool panic = false);
  EndpointLease(EndpointLease&& other) noexcept { *this = std::move(other); }
  EndpointLease& operator=(EndpointLease&& other) noexcept;
  EndpointLease(const EndpointLease&) = delete;
  EndpointLease& operator=(const EndpointLease&) = delete;
  ~EndpointLease() { end(EndpointVerdict::Neutral, {}, Clock::now()); }

  explicit operator bool() const { return health_ != nullptr; }
  std::size_t index() const { return index_; }  // into the provider's endpoints
  bool probe() const { return probe_; }
  bool panic() const { return panic_; }  // sent although ejected (ProviderBalancer::pick_in_panic)
  const EndpointHealth* health() const { return health_; }
  // Reports how the attempt ended and releases the endpoint; later calls do nothing.
  BreakerTransition finish(EndpointVerdict verdict, std::chrono::microseconds latency, Clock::time_point now) {
    return end(verdict, latency, now);
  }

 private:
  BreakerTransition end(EndpointVerdict verdict, std::chrono::microseconds latency, Clock::time_point now);
  EndpointHealth* health_ = nullptr;
  std::size_t index_ = 0;
  bool probe_ = false;
  bool panic_ = false;
  const config::BreakerConfig* policy_ = nullptr;
};

// Logs a breaker transition of `health` (warn for ejections, info otherwise); no-op for None.
void log_transition(const EndpointHealth& health, BreakerTransition transition);

class ProviderBalancer {
 public:
  struct Endpoint {
    std::shared_ptr<EndpointHealth> health;
    uint32_t weight = 1;
  };
  ProviderBalancer(config::LoadBalancing policy, config::BreakerConfig breaker, std::vector<Endpoint> endpoints,
                   ProviderCounters* counters);

  // The endpoint for a new attempt, or nullopt when every endpoint's breaker is open (or probing). `avoid` (the
  // endpoint the previous attempt failed on) is chosen only when no other endpoint is admitted.
  std::optional<EndpointLease> pick(Clock::time_point now, const EndpointHealth* avoid = nullptr);
  // When pick() found nothing and nothing else can serve the request (no fallback left): the endpoint whose
  // ejection ends first, taken regardless of its breaker (Envoy's panic mode), so that ejection never turns a
  // provider into an outage by itself. A success there restores the endpoint; a failure changes nothing.
  EndpointLease pick_in_panic();
  // The earliest time an open endpoint lets a probe through (for a retry-after when none is admitted).
  Clock::time_point next_probe_time() const;

  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  config::LoadBalancing policy() const { return policy_; }
  ProviderCounters* counters() const { return counters_; }  // process-lifetime; may be null in tests

 private:
  // Endpoint indexes in the order the policy prefers them.
  void preference_order(std::vector<std::size_t>& order) const;
  std::optional<EndpointLease> admit(std::size_t index, Clock::time_point now);

  config::LoadBalancing policy_;
  config::BreakerConfig breaker_;
  std::vector<Endpoint> endpoints_;
  std::vector<uint32_t> cumulative_weight_;  // round robin: position -> endpoint
  uint32_t total_weight_ = 0;
  mutable std::atomic<uint64_t> next_{0};    // round robin position, and the tie-breaking rotation
  ProviderCounters* counters_;
};

}  // namespace tollway::providers::resilience
