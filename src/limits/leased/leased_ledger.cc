#include "limits/leased/leased_ledger.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>

#include "core/log.h"
#include "core/prometheus_text.h"

namespace tollway::limits {
namespace asio = boost::asio;

namespace {

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr auto kWaitStep = std::chrono::milliseconds(10);

// The policy's budgets (limits/policy.cc names their counters "budget|NAME|…") are leased; rate rules, fan-out
// trees and virtual keys' own budgets stay per process.
bool is_leased(const Counter& c) {
  return c.algorithm == CounterAlgorithm::Budget && std::string_view(c.key).starts_with("budget|");
}

}  // namespace

LeasedLedger::LeasedLedger(std::shared_ptr<LocalLedger> local, std::shared_ptr<LeaseSource> source)
    : local_(std::move(local)), source_(std::move(source)) {}

LeasedLedger::~LeasedLedger() { stopping_ = true; }

void LeasedLedger::start(asio::io_context& control) {
  control_ = &control;
  timer_ = std::make_unique<asio::steady_timer>(control);
  asio::co_spawn(control, sync_loop(), asio::detached);
}

void LeasedLedger::request_sync() {
  if (sync_requested_.exchange(true) || control_ == nullptr) return;
  asio::post(*control_, [this] {
    if (timer_) timer_->cancel();
  });
}

LeasedLedger::Need LeasedLedger::adjust(std::span<const Counter> counters, std::span<const int64_t> amounts,
                                        int64_t now_ms, bool may_wait, std::span<int64_t> limits,
                                        std::span<int64_t> fleet_remaining) {
  Need need = Need::Nothing;
  bool low = false;
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const Counter& c = counters[i];
    if (!is_leased(c)) continue;
    auto [it, inserted] = held_.try_emplace(c.key);
    Held& h = it->second;
    if (inserted) {
      h.period_end_ms = now_ms + c.window_ms;
      h.counter = c;
    } else {  // the key (and so the counter) is the same; the policy's limit and modes may have been reloaded
      h.counter.limit = c.limit;
      h.counter.lease = c.lease;
    }
    fleet_remaining[i] = h.global_remaining;
    const int64_t used = local_->budget_used(c, now_ms);
    const int64_t amount = amounts[i];
    int64_t allowed = 0;
    if (h.ever_granted && now < h.expires) {
      allowed = h.granted;
      h.safe_base = -1;
      if (used + amount > h.granted) {
        low = true;
        if (c.lease.on_lease_exhausted == OnLeaseExhausted::Wait && may_wait) need = Need::Lease;
        if (c.lease.on_lease_exhausted == OnLeaseExhausted::Allow) {
          overdraft_units_.fetch_add(static_cast<uint64_t>(used + amount - std::max(h.granted, used)),
                                     std::memory_order_relaxed);
          allowed = used + amount;
        }
      } else if ((h.granted - used - amount) * 4 < h.granted - h.reported_used) {
        low = true;  // under a quarter of what was left at the last report: ask before it runs out
      }
    } else if (!h.ever_granted && may_wait) {
      need = Need::Lease;  // the first request of a key waits for its first lease
    } else {
      // No valid lease: the control plane has not answered in time.
      expired_decisions_.fetch_add(1, std::memory_order_relaxed);
      switch (c.lease.on_control_unreachable) {
        case OnControlUnreachable::LastLease: allowed = h.granted; break;
        case OnControlUnreachable::Safe:
          if (h.safe_base < 0) h.safe_base = used;
          allowed = h.safe_base + c.lease.safe_allowance;
          break;
        case OnControlUnreachable::Deny: allowed = 0; break;
      }
      low = true;
    }
    limits[i] = std::max<int64_t>(allowed, 0);
  }
  if (low || need == Need::Lease) request_sync();
  return need;
}

asio::awaitable<ReserveResult> LeasedLedger::reserve(std::span<const Counter> counters,
                                                     std::span<const int64_t> amounts, int64_t now_ms) {
  // Per counter: the limit this call decides against (the lease for a leased one) and the fleet's remainder.
  constexpr std::size_t kOnStack = 8;
  std::array<int64_t, 2 * kOnStack> fixed{};
  std::vector<int64_t> more;
  std::span<int64_t> scratch(fixed.data(), 2 * counters.size());
  if (counters.size() > kOnStack) {
    more.resize(2 * counters.size());
    scratch = more;
  }
  const std::span<int64_t> limits = scratch.first(counters.size());
  const std::span<int64_t> fleet_remaining = scratch.subspan(counters.size());
  const auto reset = [&] {
    for (std::size_t i = 0; i < counters.size(); ++i) {
      limits[i] = counters[i].limit;
      fleet_remaining[i] = 0;
    }
  };
  reset();
  if (adjust(counters, amounts, now_ms, true, limits, fleet_remaining) == Need::Lease) {
    waits_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t generation = generation_.load();
    const auto deadline = Clock::now() + 2 * std::chrono::milliseconds(sync_interval_ms_.load());
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (Clock::now() < deadline && generation_.load() == generation && !stopping_) {
      timer.expires_after(kWaitStep);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    reset();
    adjust(counters, amounts, now_ms, false, limits, fleet_remaining);
  }
  ReserveResult result = local_->reserve_now(counters, amounts, now_ms, limits);
  for (std::size_t i = 0; i < counters.size() && i < result.states.size(); ++i)
    result.states[i].remaining += fleet_remaining[i];
  co_return result;
}

asio::awaitable<bool> LeasedLedger::settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                           std::span<const std::string>, std::span<const int64_t> actual,
                                           int64_t now_ms) {
  local_->settle_now(counters, reserved, actual, now_ms);
  co_return true;
}

asio::awaitable<void> LeasedLedger::sync_once() {
  const int64_t now_ms = unix_ms_now();
  const auto now = Clock::now();
  std::vector<LeaseUse> uses;
  {
    std::lock_guard lock(mutex_);
    for (auto it = held_.begin(); it != held_.end();) {
      Held& h = it->second;
      if (h.period_end_ms <= now_ms) {  // the period ended: its key is not spent from again
        it = held_.erase(it);
        continue;
      }
      LeaseUse& u = uses.emplace_back();
      u.key = it->first;
      u.limit = h.counter.limit;
      u.used = local_->budget_used(h.counter, now_ms);
      const double seconds = h.reported_at == Clock::time_point{}
                                 ? sync_interval_ms_.load() / 1000.0
                                 : std::max(0.001, std::chrono::duration<double>(now - h.reported_at).count());
      u.rate = static_cast<double>(std::max<int64_t>(0, u.used - h.reported_used)) / seconds;
      u.held = h.ever_granted && now < h.expires ? h.granted : 0;
      u.ends_in_ms = h.period_end_ms - now_ms;
      ++it;
    }
  }
  if (uses.empty()) co_return;
  std::string error;
  const auto sent_at = Clock::now();
  const std::optional<LeaseAnswer> answer = co_await source_->exchange(uses, error);
  if (!answer) {
    syncs_failed_.fetch_add(1, std::memory_order_relaxed);
    if (!failing_)  // once per outage; the counter says how long it lasted
      log::warn("lease sync failed: budgets are decided on the leases held (on_control_unreachable)",
                json::ObjectWriter().field("error", error).field("keys", static_cast<uint64_t>(uses.size())));
    failing_ = true;
    co_return;
  }
  if (failing_) log::info("lease sync recovered", json::ObjectWriter().field("keys", static_cast<uint64_t>(uses.size())));
  failing_ = false;
  syncs_ok_.fetch_add(1, std::memory_order_relaxed);
  sync_interval_ms_ = std::clamp<int64_t>(answer->sync_interval.count(), 100, 60'000);
  {
    std::lock_guard lock(mutex_);
    for (const LeaseUse& u : uses)
      if (const auto it = held_.find(u.key); it != held_.end()) {
        it->second.reported_used = u.used;
        it->second.reported_at = sent_at;
      }
    for (const LeaseGrant& g : answer->leases) {
      const auto it = held_.find(g.key);
      if (it == held_.end()) continue;
      Held& h = it->second;
      h.granted = g.granted;
      h.expires = sent_at + std::chrono::milliseconds(g.ttl_ms);  // sent_at: never later than the plane's clock
      h.ever_granted = true;
      h.global_remaining = g.remaining;
      h.safe_base = -1;
    }
  }
  generation_.fetch_add(1);
}

asio::awaitable<void> LeasedLedger::sync_loop() {
  while (!stopping_) {
    sync_requested_ = false;
    const uint64_t failed_before = syncs_failed_.load();
    co_await sync_once();
    const auto interval = std::chrono::milliseconds(sync_interval_ms_.load());
    const auto next = Clock::now() + interval;
    // After a failure the next attempt waits a whole interval, however many requests ask for one sooner.
    const auto earliest = syncs_failed_.load() != failed_before ? next : Clock::now();
    timer_->expires_at(next);
    while (!stopping_ && !(sync_requested_.load() && Clock::now() >= earliest)) {
      boost::system::error_code ec;
      co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) break;  // the interval passed; a cancel was an early request, checked by the loop
    }
  }
}

void LeasedLedger::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_limits_lease_syncs_total", "counter",
                     "Usage reports sent for leased budgets, by whether a control plane answered with leases.");
  prometheus::sample(out, "tollway_limits_lease_syncs_total", prometheus::labels({{"result", "ok"}}), syncs_ok_.load());
  prometheus::sample(out, "tollway_limits_lease_syncs_total", prometheus::labels({{"result", "failed"}}),
                     syncs_failed_.load());
  prometheus::family(out, "tollway_limits_lease_waits_total", "counter",
                     "Requests that waited for a lease (a key's first, or on_lease_exhausted: wait).");
  prometheus::sample(out, "tollway_limits_lease_waits_total", "", waits_.load());
  prometheus::family(out, "tollway_limits_lease_overdraft_total", "counter",
                     "Units admitted beyond a lease (on_lease_exhausted: allow).");
  prometheus::sample(out, "tollway_limits_lease_overdraft_total", "", overdraft_units_.load());
  prometheus::family(out, "tollway_limits_lease_expired_decisions_total", "counter",
                     "Budget decisions made without a valid lease (on_control_unreachable).");
  prometheus::sample(out, "tollway_limits_lease_expired_decisions_total", "", expired_decisions_.load());
  std::size_t held = 0, valid = 0;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (const auto& [key, h] : held_) {
      ++held;
      if (h.ever_granted && now < h.expires) ++valid;
    }
  }
  prometheus::family(out, "tollway_limits_leases", "gauge", "Budget keys this process spends from, by lease state.");
  prometheus::sample(out, "tollway_limits_leases", prometheus::labels({{"state", "valid"}}), valid);
  prometheus::sample(out, "tollway_limits_leases", prometheus::labels({{"state", "none_or_expired"}}), held - valid);
}

}  // namespace tollway::limits
