#include "limits/leased/leased_ledger.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

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

// A steady-clock expiry as Unix ms, given one reading of both clocks; rounded down (never later than the steady one).
int64_t wall_expiry(std::chrono::steady_clock::time_point expires, std::chrono::steady_clock::time_point now,
                    int64_t now_ms) {
  const auto left = std::chrono::floor<std::chrono::milliseconds>(expires - now).count();
  return now_ms + left;
}

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

// Decides each leased counter against its lease in the counter's cell (under its stripe lock, so it never locks,
// awaits or allocates); what it learns is applied by decide() once the stripe locks are released.
class LeasedLedger::Decision final : public BudgetLeases {
 public:
  explicit Decision(bool may_wait) : may_wait_(may_wait) {}

  Limit budget_limit(const Counter& c, int64_t amount, int64_t used, int64_t now_ms,
                     BudgetLease& lease) override {
    if (!is_leased(c)) return {c.limit, 0};
    if (!lease.known) {
      lease.known = true;
      new_key = true;
    }
    lease.limit = c.limit;  // the policy's limit may have been reloaded; reported as it is now
    int64_t allowed = 0;
    if (lease.ever_granted && now_ms < lease.expires_ms) {
      allowed = lease.granted;
      lease.safe_base = -1;
      if (used + amount > lease.granted) {
        low = true;
        if (c.lease.on_lease_exhausted == OnLeaseExhausted::Wait && may_wait_) wait_for_lease = true;
        if (c.lease.on_lease_exhausted == OnLeaseExhausted::Allow) {
          overdraft += used + amount - std::max(lease.granted, used);
          allowed = used + amount;
        }
      } else if ((lease.granted - used - amount) * 4 < lease.granted - lease.reported_used) {
        low = true;  // under a quarter of what was left at the last report: ask before it runs out
      }
    } else if (!lease.ever_granted && may_wait_) {
      wait_for_lease = true;  // the first request of a key waits for its first lease
    } else {
      // No valid lease: the control plane has not answered in time.
      ++expired;
      switch (c.lease.on_control_unreachable) {
        case OnControlUnreachable::LastLease: allowed = lease.granted; break;
        case OnControlUnreachable::Safe:
          if (lease.safe_base < 0) lease.safe_base = used;
          allowed = lease.safe_base + c.lease.safe_allowance;
          break;
        case OnControlUnreachable::Deny: allowed = 0; break;
      }
      low = true;
    }
    return {std::max<int64_t>(allowed, 0), lease.fleet_remaining};
  }
  bool low = false;         // a lease runs low or expired: sync early
  bool new_key = false;     // some counter was seen for the first time
  int64_t overdraft = 0;    // units admitted beyond a lease (allow)
  uint64_t expired = 0;     // counters decided without a valid lease

 private:
  bool may_wait_;
};

void LeasedLedger::register_keys(std::span<const Counter> counters, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (const Counter& c : counters)
    if (is_leased(c)) held_.try_emplace(c.key, Held{.counter = c, .period_end_ms = now_ms + c.window_ms});
}

bool LeasedLedger::decide(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                          bool may_wait, ReserveResult& result) {
  Decision decision(may_wait);
  const bool decided = local_->reserve_leased(counters, amounts, now_ms, decision, result);
  if (decision.new_key) register_keys(counters, now_ms);
  if (decided) {
    if (decision.overdraft > 0)
      overdraft_units_.fetch_add(static_cast<uint64_t>(decision.overdraft), std::memory_order_relaxed);
    if (decision.expired > 0) expired_decisions_.fetch_add(decision.expired, std::memory_order_relaxed);
  }
  if (decision.low || decision.wait_for_lease) request_sync();
  return decided;
}

bool LeasedLedger::reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                               ReserveResult& result) {
  return decide(counters, amounts, now_ms, true, result);
}

asio::awaitable<ReserveResult> LeasedLedger::reserve(std::span<const Counter> counters,
                                                     std::span<const int64_t> amounts, int64_t now_ms) {
  ReserveResult result;
  if (decide(counters, amounts, now_ms, true, result)) co_return std::move(result);  // (a copy would allocate)
  co_return co_await reserve_after_lease(counters, amounts, now_ms);
}

asio::awaitable<ReserveResult> LeasedLedger::reserve_after_lease(std::span<const Counter> counters,
                                                                 std::span<const int64_t> amounts, int64_t now_ms) {
  ReserveResult result;
  const uint64_t generation = generation_.load();
  if (decide(counters, amounts, now_ms, true, result)) co_return std::move(result);  // a lease came meanwhile
  waits_.fetch_add(1, std::memory_order_relaxed);
  const auto deadline = Clock::now() + 2 * std::chrono::milliseconds(sync_interval_ms_.load());
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (Clock::now() < deadline && generation_.load() == generation && !stopping_) {
    timer.expires_after(kWaitStep);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  decide(counters, amounts, now_ms, false, result);
  co_return std::move(result);
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
      local_->update_lease(h.counter, h.period_end_ms, [&](int64_t used, BudgetLease& lease) {
        lease.known = true;
        if (lease.limit == 0) lease.limit = h.counter.limit;  // a cell created again since it was last decided
        u.used = used;
        u.limit = lease.limit;
        // Decisions compare the lease's expiry with their wall-clock now_ms: set again from the steady expiry on
        // every pass, so a step of the wall clock holds a lease too long or too short for one sync interval at most.
        if (h.ever_granted) lease.expires_ms = wall_expiry(h.expires, now, now_ms);
      });
      const double seconds = h.reported_at == Clock::time_point{}
                                 ? sync_interval_ms_.load() / 1000.0
                                 : std::max(0.001, std::chrono::duration<double>(now - h.reported_at).count());
      u.rate = static_cast<double>(std::max<int64_t>(0, u.used - h.reported_used)) / seconds;
      // The grant it may still spend against: its lease's while valid, and past expiry under last_lease too (it
      // spends what that lease allows until an answer comes), so the control plane keeps it committed while this
      // report is in flight — a lease that ran out during a slow round trip is no lease given back.
      const bool spendable =
          now < h.expires || h.counter.lease.on_control_unreachable == OnControlUnreachable::LastLease;
      u.held = h.ever_granted && spendable ? h.granted : 0;
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
    const int64_t answered_ms = unix_ms_now();
    const auto answered = Clock::now();
    for (const LeaseUse& u : uses) {
      const auto it = held_.find(u.key);
      if (it == held_.end()) continue;
      it->second.reported_used = u.used;
      it->second.reported_at = sent_at;
      local_->update_lease(it->second.counter, it->second.period_end_ms,
                           [&](int64_t, BudgetLease& lease) { lease.reported_used = u.used; });
    }
    for (const LeaseGrant& g : answer->leases) {
      const auto it = held_.find(g.key);
      if (it == held_.end()) continue;
      Held& h = it->second;
      h.granted = g.granted;
      h.expires = sent_at + std::chrono::milliseconds(g.ttl_ms);  // sent_at: never later than the plane's clock
      h.ever_granted = true;
      local_->update_lease(h.counter, h.period_end_ms, [&](int64_t, BudgetLease& lease) {
        lease.granted = g.granted;
        lease.expires_ms = wall_expiry(h.expires, answered, answered_ms);
        lease.ever_granted = true;
        lease.fleet_remaining = g.remaining;
        lease.safe_base = -1;
      });
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
