#include "advise/sim/lease_model.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <span>
#include <vector>

#include "advise/sim/rng.h"

namespace tollway::sim {

namespace {

struct Event {
  double t;       // µs
  int32_t node;
  bool expiry;    // a lost node's lease runs out
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && node > o.node); }
};

class Fleet {
 public:
  Fleet(const BudgetModel& b, const LeaseDemand& d, int64_t nodes, uint64_t seed)
      : b_(b), rng_(seed), n_(static_cast<std::size_t>(nodes)) {
    rate_.resize(n_);
    const double requests_per_us = d.request_tokens_mean > 0 ? d.tokens_per_second / d.request_tokens_mean / 1e6 : 0;
    if (d.node_shares.size() == n_) {
      for (std::size_t i = 0; i < n_; ++i) rate_[i] = requests_per_us * d.node_shares[i];
    } else {
      double zipf_total = 0;
      for (std::size_t i = 0; i < n_; ++i) zipf_total += std::pow(static_cast<double>(i + 1), -b.demand_skew);
      for (std::size_t i = 0; i < n_; ++i)
        rate_[i] = requests_per_us * std::pow(static_cast<double>(i + 1), -b.demand_skew) / zipf_total;
    }
    mean_ = d.request_tokens_mean;
    sq_ = d.request_tokens_sq;
    const double var = std::max(0.0, sq_ - mean_ * mean_);
    size_sigma_ = mean_ > 0 ? std::sqrt(std::log1p(var / (mean_ * mean_))) : 0;
    size_mu_ = mean_ > 0 ? std::log(mean_) - size_sigma_ * size_sigma_ / 2 : 0;
    used_.assign(n_, 0);
    held_.assign(n_, 0);
    last_.assign(n_, 0);
    prev_used_.assign(n_, 0);
    prev_t_.assign(n_, 0);
    cp_used_.assign(n_, 0);
    cp_granted_.assign(n_, 0);
    cp_lowered_.assign(n_, 0);
    lost_.assign(n_, false);
    holder_.assign(n_, false);
  }

  LeaseOutcome run(double duration_us) {
    LeaseOutcome out;
    out.limit = b_.limit_tokens;
    out.nodes = static_cast<int64_t>(n_);
    std::vector<Event> storage;
    storage.reserve(n_ + static_cast<std::size_t>(b_.nodes_lost) + 1);
    std::priority_queue<Event, std::vector<Event>, std::greater<>> queue(std::greater<>{}, std::move(storage));
    // Nodes start spread over the first sync interval, as processes started at different moments are.
    for (std::size_t i = 0; i < n_; ++i) queue.push({rng_.uniform() * b_.sync_interval_us, static_cast<int32_t>(i), false});
    bool lost_done = b_.nodes_lost == 0;
    while (!queue.empty() && queue.top().t < duration_us) {
      const Event e = queue.top();
      queue.pop();
      ++out.events;
      const auto i = static_cast<std::size_t>(e.node);
      if (e.expiry) {
        expire(i);
        continue;
      }
      if (lost_[i]) continue;  // a lost node never reports again
      advance(i, e.t, out);
      const double latency = b_.report_latency_us.sample(rng_);
      report(i, e.t);
      ++out.reports;
      advance(i, std::min(e.t + latency, duration_us), out);  // spends against the grant it held until the answer
      held_[i] = cp_granted_[i];
      if (!lost_done && cp_spent_ >= b_.lost_at_spent * b_.limit_tokens) {
        lose_busiest(e.t + latency, queue, out);
        lost_done = true;
      }
      queue.push({e.t + latency + b_.sync_interval_us, e.node, false});
    }
    for (std::size_t i = 0; i < n_; ++i)
      if (!lost_[i]) advance(i, duration_us, out);
    out.served_by_node = used_;
    out.overspend = std::max(0.0, out.served - out.limit);
    out.denied = out.demanded - out.served;
    const double seconds = duration_us / 1e6;
    out.reports_per_second = seconds > 0 ? static_cast<double>(out.reports) / seconds : 0;
    out.reports_per_second_closed_form =
        static_cast<double>(n_) * 1e6 / (b_.sync_interval_us + b_.report_latency_us.mean());
    return out;
  }

 private:
  // Node i's demand from its last event to `to`, admitted against the grant it holds.
  void advance(std::size_t i, double to, LeaseOutcome& out) {
    const double dt = to - last_[i];
    if (dt <= 0 || lost_[i]) return;
    last_[i] = to;
    const double tokens = demand(rate_[i] * dt);
    if (tokens <= 0) return;
    out.demanded += tokens;
    double admitted = tokens;
    if (!b_.allow_beyond_lease) {
      admitted = std::clamp(held_[i] - used_[i], 0.0, tokens);
    } else {
      out.bound_u += std::max(0.0, used_[i] + tokens - std::max(held_[i], used_[i]));
    }
    used_[i] += admitted;
    out.served += admitted;
    if (out.exhausted_at_s < 0 && out.served >= b_.limit_tokens) out.exhausted_at_s = to / 1e6;
  }

  // Tokens of a Poisson number of requests with this mean count.
  double demand(double expected_requests) {
    if (expected_requests <= 0) return 0;
    if (expected_requests >= 10) {
      const double mean = expected_requests * mean_;
      return std::max(0.0, std::round(mean + std::sqrt(expected_requests * sq_) * rng_.normal()));
    }
    const uint64_t k = rng_.poisson(expected_requests);
    double total = 0;
    for (uint64_t j = 0; j < k; ++j) total += std::round(std::exp(size_mu_ + size_sigma_ * rng_.normal()));
    return total;
  }

  // What holder i commits: what it used, plus what it may still spend of the larger of its grant and a grant
  // lowered since its last report.
  double commitment(std::size_t i) const {
    return std::max({cp_used_[i], cp_granted_[i], cp_lowered_[i]});
  }

  // The control plane's answer to node i's report at time t (LeaseBook::grant without the learning period).
  void report(std::size_t i, double t) {
    if (holder_[i]) committed_ -= commitment(i);
    else {
      holder_[i] = true;
      ++active_;
    }
    const double elapsed_s = (t - prev_t_[i]) / 1e6;
    const double rate = elapsed_s > 0 ? (used_[i] - prev_used_[i]) / elapsed_s : 0;
    prev_used_[i] = used_[i];
    prev_t_[i] = t;
    cp_spent_ += used_[i] - cp_used_[i];
    cp_used_[i] = used_[i];
    const double free_for_me = std::max(0.0, b_.limit_tokens - committed_ - used_[i]);
    const double want = std::ceil(rate * 2.0 * b_.sync_interval_us / 1e6);
    const double left = std::max(0.0, b_.limit_tokens - cp_spent_);
    const double floor = std::floor(left / (b_.floor_divisor * static_cast<double>(active_)));
    const double granted = used_[i] + std::min(std::max(want, floor), free_for_me);
    cp_lowered_[i] = granted < held_[i] ? held_[i] : 0;
    cp_granted_[i] = granted;
    committed_ += commitment(i);
  }

  // The busiest nodes (the highest demand; the first on a tie) spend at once all their lease still allows and never
  // report again.
  void lose_busiest(double t, std::priority_queue<Event, std::vector<Event>, std::greater<>>& queue, LeaseOutcome& out) {
    const auto count = std::min<std::size_t>(n_, static_cast<std::size_t>(b_.nodes_lost));
    std::vector<std::size_t> busiest(n_);
    for (std::size_t i = 0; i < n_; ++i) busiest[i] = i;
    std::stable_sort(busiest.begin(), busiest.end(),
                     [this](std::size_t a, std::size_t b) { return rate_[a] > rate_[b]; });
    for (const std::size_t i : std::span(busiest).first(count)) {
      advance(i, t, out);
      const double rest = std::max(0.0, held_[i] - used_[i]);
      used_[i] += rest;
      out.served += rest;
      out.demanded += rest;
      out.bound_k += std::max(0.0, cp_granted_[i] - cp_used_[i]);
      lost_[i] = true;
      queue.push({prev_t_[i] + b_.lease_ttl_us, static_cast<int32_t>(i), true});
    }
  }

  void expire(std::size_t i) {
    committed_ -= commitment(i);
    cp_granted_[i] = cp_lowered_[i] = 0;
    committed_ += commitment(i);
    --active_;
  }

  const BudgetModel& b_;
  SimRng rng_;
  std::size_t n_;
  std::vector<double> rate_;  // requests per µs
  double mean_ = 0, sq_ = 0, size_mu_ = 0, size_sigma_ = 0;
  // Node side: what it spent, the grant it holds, its last event, its previous report (for the rate it reports).
  std::vector<double> used_, held_, last_, prev_used_, prev_t_;
  // Control-plane side: per holder what it reported and was granted; the sums over holders.
  std::vector<double> cp_used_, cp_granted_, cp_lowered_;
  std::vector<bool> lost_, holder_;
  double cp_spent_ = 0, committed_ = 0;
  int64_t active_ = 0;
};

}  // namespace

LeaseOutcome simulate_leases(const BudgetModel& budget, const LeaseDemand& demand, double duration_s, int64_t nodes,
                             uint64_t seed) {
  Fleet fleet(budget, demand, nodes, seed);
  return fleet.run(duration_s * 1e6);
}

}  // namespace tollway::sim
