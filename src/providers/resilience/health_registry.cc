#include "providers/resilience/health_registry.h"

#include "core/prometheus_text.h"

namespace tollway::providers::resilience {
namespace {

constexpr AttemptFailure kReasons[] = {AttemptFailure::Connect,     AttemptFailure::Closed,
                                       AttemptFailure::Timeout,     AttemptFailure::Protocol,
                                       AttemptFailure::RateLimited, AttemptFailure::ServerError,
                                       AttemptFailure::CircuitOpen};

namespace prometheus = core::prometheus;

std::string endpoint_labels(const EndpointHealth& h) {
  return prometheus::labels({{"provider", h.provider()}, {"endpoint", h.url()}});
}

}  // namespace

std::vector<std::unique_ptr<ProviderBalancer>> UpstreamHealthRegistry::balancers_for(
    const config::GatewayConfig& config) {
  std::lock_guard lock(mutex_);
  std::vector<std::unique_ptr<ProviderBalancer>> out;
  std::vector<std::shared_ptr<EndpointHealth>> active;
  for (const auto& p : config.providers) {
    std::vector<ProviderBalancer::Endpoint> endpoints;
    for (const auto& e : p.endpoints) {
      auto& slot = endpoints_[{p.name, e.url}];
      if (!slot) slot = std::make_shared<EndpointHealth>(p.name, e.url);
      endpoints.push_back({slot, e.weight});
      active.push_back(slot);
    }
    auto& counters = counters_[p.name];
    if (!counters) counters = std::make_unique<ProviderCounters>();
    out.push_back(std::make_unique<ProviderBalancer>(p.load_balancing, p.breaker, std::move(endpoints),
                                                     counters.get()));
  }
  active_ = std::move(active);
  return out;
}

void UpstreamHealthRegistry::render_metrics(std::string& out) const {
  std::lock_guard lock(mutex_);
  prometheus::family(
      out, "tollway_upstream_endpoint_state", "gauge",
      "Circuit breaker state of each provider endpoint: 1 for the current state (closed = serving, open = "
      "ejected, half_open = one probe request in flight), 0 for the others.");
  for (const auto& h : active_) {
    const BreakerState s = h->state();
    for (BreakerState each : {BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen}) {
      std::string labels = endpoint_labels(*h);
      prometheus::add_label(labels, "state", breaker_state_name(each));
      prometheus::sample(out, "tollway_upstream_endpoint_state", labels, each == s ? 1 : 0);
    }
  }
  prometheus::family(out, "tollway_upstream_endpoint_in_flight", "gauge",
                     "Requests in flight to each provider endpoint.");
  for (const auto& h : active_)
    prometheus::sample_text(out, "tollway_upstream_endpoint_in_flight", endpoint_labels(*h),
                            std::to_string(h->in_flight()));
  prometheus::family(
      out, "tollway_upstream_endpoint_latency_ewma_seconds", "gauge",
      "Moving average of each provider endpoint's time to the response head (0 before its first answer).");
  for (const auto& h : active_)
    prometheus::sample_text(out, "tollway_upstream_endpoint_latency_ewma_seconds", endpoint_labels(*h),
                            std::to_string(static_cast<double>(h->latency_ewma_us()) / 1e6));
  prometheus::family(
      out, "tollway_upstream_endpoint_ejections_total", "counter",
      "Times each provider endpoint was ejected by its circuit breaker (failed probes included).");
  for (const auto& h : active_)
    prometheus::sample(out, "tollway_upstream_endpoint_ejections_total", endpoint_labels(*h), h->ejections());
  prometheus::family(
      out, "tollway_upstream_retries_total", "counter",
      "Upstream attempts repeated on the same provider after a failure before any byte reached the client, "
      "by provider and reason.");
  for (const auto& [provider, c] : counters_)
    for (AttemptFailure f : kReasons)
      if (const uint64_t n = c->retries[static_cast<std::size_t>(f)].load(std::memory_order_relaxed))
        prometheus::sample(out, "tollway_upstream_retries_total",
                           prometheus::labels({{"provider", provider}, {"reason", failure_name(f)}}), n);
  prometheus::family(out, "tollway_upstream_fallbacks_total", "counter",
                     "Requests moved on to the next provider of their route's fallback chain, by the "
                     "provider left and reason.");
  for (const auto& [provider, c] : counters_)
    for (AttemptFailure f : kReasons)
      if (const uint64_t n = c->fallbacks[static_cast<std::size_t>(f)].load(std::memory_order_relaxed))
        prometheus::sample(out, "tollway_upstream_fallbacks_total",
                           prometheus::labels({{"provider", provider}, {"reason", failure_name(f)}}), n);
}

}  // namespace tollway::providers::resilience
