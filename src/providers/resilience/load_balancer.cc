#include "providers/resilience/load_balancer.h"

#include <algorithm>
#include <limits>

#include "core/log.h"

namespace tollway::providers::resilience {

EndpointLease::EndpointLease(EndpointHealth* health, std::size_t index, bool probe,
                             const config::BreakerConfig* policy, bool panic)
    : health_(health), index_(index), probe_(probe), panic_(panic), policy_(policy) {
  health_->add_in_flight(1);
}

EndpointLease& EndpointLease::operator=(EndpointLease&& other) noexcept {
  if (this != &other) {
    end(EndpointVerdict::Neutral, {}, Clock::now());
    health_ = std::exchange(other.health_, nullptr);
    index_ = other.index_;
    probe_ = other.probe_;
    panic_ = other.panic_;
    policy_ = other.policy_;
  }
  return *this;
}

BreakerTransition EndpointLease::end(EndpointVerdict verdict, std::chrono::microseconds latency,
                                     Clock::time_point now) {
  if (health_ == nullptr) return BreakerTransition::None;
  EndpointHealth* h = std::exchange(health_, nullptr);
  h->add_in_flight(-1);
  const BreakerTransition t = !panic_                               ? h->record(verdict, probe_, latency, now, *policy_)
                              : verdict == EndpointVerdict::Success ? h->restore_after_panic(now)
                                                                    : BreakerTransition::None;
  log_transition(*h, t);
  return t;
}

void log_transition(const EndpointHealth& h, BreakerTransition t) {
  if (t == BreakerTransition::None) return;
  json::ObjectWriter w;
  w.field("provider", h.provider()).field("endpoint", h.url());
  const auto ejected_for = [&]() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(h.ejected_until() - Clock::now()).count();
  };
  switch (t) {
    case BreakerTransition::Ejected:
      w.field("consecutive_failures", static_cast<uint64_t>(h.consecutive_failures()))
          .field("ejected_for_ms", static_cast<int64_t>(ejected_for()));
      log::warn("upstream endpoint ejected", w);
      break;
    case BreakerTransition::ReEjected:
      w.field("ejected_for_ms", static_cast<int64_t>(ejected_for()));
      log::warn("upstream endpoint probe failed; ejected again", w);
      break;
    case BreakerTransition::Probing: log::info("upstream endpoint probing", w); break;
    case BreakerTransition::Restored: log::info("upstream endpoint restored", w); break;
    case BreakerTransition::None: break;
  }
}

ProviderBalancer::ProviderBalancer(config::LoadBalancing policy, config::BreakerConfig breaker,
                                   std::vector<Endpoint> endpoints, ProviderCounters* counters)
    : policy_(policy), breaker_(breaker), endpoints_(std::move(endpoints)), counters_(counters) {
  for (const auto& e : endpoints_) {
    total_weight_ += std::max<uint32_t>(1, e.weight);
    cumulative_weight_.push_back(total_weight_);
  }
}

void ProviderBalancer::preference_order(std::vector<std::size_t>& order) const {
  const std::size_t n = endpoints_.size();
  const uint64_t turn = next_.fetch_add(1, std::memory_order_relaxed);
  if (policy_ == config::LoadBalancing::RoundRobin) {
    // Weighted: position `turn` of the cycle of total_weight positions names the first choice; the others
    // follow in list order (used when the first is ejected).
    const uint32_t position = static_cast<uint32_t>(turn % total_weight_);
    const std::size_t first =
        std::upper_bound(cumulative_weight_.begin(), cumulative_weight_.end(), position) - cumulative_weight_.begin();
    for (std::size_t i = 0; i < n; ++i) order.push_back((first + i) % n);
    return;
  }
  // Lowest cost first; equal costs in a rotating order so ties spread over the endpoints.
  std::vector<std::pair<double, std::size_t>> cost;
  cost.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (turn + k) % n;
    const EndpointHealth& h = *endpoints_[i].health;
    const double load = static_cast<double>(h.in_flight()) + 1.0;
    const double weight = std::max<uint32_t>(1, endpoints_[i].weight);
    // latency_ewma: an endpoint without a sample yet costs 0, so it is measured first.
    const double c = policy_ == config::LoadBalancing::LeastInFlight
                         ? load / weight
                         : static_cast<double>(h.latency_ewma_us()) * load / weight;
    cost.emplace_back(c, i);
  }
  std::stable_sort(cost.begin(), cost.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [c, i] : cost) order.push_back(i);
}

std::optional<EndpointLease> ProviderBalancer::admit(std::size_t index, Clock::time_point now) {
  EndpointHealth& h = *endpoints_[index].health;
  BreakerTransition t;
  const auto admission = h.admit(now, t);
  log_transition(h, t);
  if (admission == EndpointHealth::Admission::Refused) return std::nullopt;
  return EndpointLease(&h, index, admission == EndpointHealth::Admission::Probe, &breaker_);
}

std::optional<EndpointLease> ProviderBalancer::pick(Clock::time_point now, const EndpointHealth* avoid) {
  if (endpoints_.size() == 1) return admit(0, now);
  std::vector<std::size_t> order;
  order.reserve(endpoints_.size());
  preference_order(order);
  std::optional<std::size_t> avoided;
  for (std::size_t i : order) {
    if (endpoints_[i].health.get() == avoid) {
      avoided = i;
      continue;
    }
    if (!endpoints_[i].health->admissible(now)) continue;
    if (auto lease = admit(i, now)) return lease;
  }
  if (avoided) return admit(*avoided, now);
  return std::nullopt;
}

EndpointLease ProviderBalancer::pick_in_panic() {
  std::size_t best = 0;
  for (std::size_t i = 1; i < endpoints_.size(); ++i)
    if (endpoints_[i].health->ejected_until() < endpoints_[best].health->ejected_until()) best = i;
  return EndpointLease(endpoints_[best].health.get(), best, false, &breaker_, true);
}

Clock::time_point ProviderBalancer::next_probe_time() const {
  auto earliest = Clock::time_point::max();
  for (const auto& e : endpoints_) {
    if (e.health->state() != BreakerState::Open) continue;
    earliest = std::min(earliest, e.health->ejected_until());
  }
  return earliest;
}

}  // namespace tollway::providers::resilience
