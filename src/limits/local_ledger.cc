#include "limits/local_ledger.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <thread>
#include <vector>

namespace tollway::limits {
namespace {

// Floating-point slack for GCRA comparisons (ms); far below one emission interval of any sane limit.
constexpr double kEpsilon = 1e-6;
// A stripe is swept of idle cells every this many operations on it.
constexpr uint32_t kSweepEvery = 4096;
// Counters of one request whose cells are remembered on the stack between the check and the apply pass.
constexpr std::size_t kMaxOnStack = 16;

double emission_interval(const Counter& c) {
  return static_cast<double>(c.window_ms) / static_cast<double>(c.limit);
}

int64_t ceil_ms(double ms) {
  return ms <= 0 ? 0 : static_cast<int64_t>(std::ceil(ms - kEpsilon));
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Locks the stripes a request touches, each once, in ascending order (a bit per stripe); unlocks on
// destruction.
template <typename StripeArray>
class StripeLocks {
 public:
  StripeLocks(StripeArray& stripes, uint64_t mask) : stripes_(stripes), mask_(mask) {
    for (uint64_t m = mask_; m != 0; m &= m - 1) stripes_[std::countr_zero(m)].mutex.lock();
  }
  ~StripeLocks() {
    for (uint64_t m = mask_; m != 0; m &= m - 1) stripes_[std::countr_zero(m)].mutex.unlock();
  }
  StripeLocks(const StripeLocks&) = delete;
  StripeLocks& operator=(const StripeLocks&) = delete;

 private:
  StripeArray& stripes_;
  uint64_t mask_;
};

}  // namespace

void LocalLedger::StripeLock::lock() noexcept {
  while (locked_.exchange(true, std::memory_order_acquire)) {
    for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
      if (spins < 64)
        cpu_relax();
      else
        std::this_thread::yield();
    }
  }
}

uint64_t LocalLedger::hash_keys(std::span<const Counter> counters, std::span<KeyRef> keys) {
  uint64_t mask = 0;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    keys[i] = key_of(counters[i]);
    mask |= uint64_t{1} << stripe_of(keys[i]);
  }
  return mask;
}

// A GCRA cell is dropped one window after its TAT has passed: a late settle of a larger actual amount still
// finds it (TAT = max(TAT + delta*T, now) needs the old TAT while TAT + delta*T could exceed now).
int64_t LocalLedger::gcra_expiry(const Cell& cell, const Counter& c) {
  return static_cast<int64_t>(std::ceil(cell.tat_ms)) + c.window_ms;
}

LocalLedger::LocalLedger() : stripes_(std::make_unique<std::array<Stripe, kStripes>>()) {}
LocalLedger::~LocalLedger() = default;

boost::asio::awaitable<ReserveResult> LocalLedger::reserve(std::span<const Counter> counters,
                                                           std::span<const int64_t> amounts, int64_t now_ms) {
  co_return reserve_now(counters, amounts, now_ms);
}

boost::asio::awaitable<bool> LocalLedger::settle(std::span<const Counter> counters,
                                                 std::span<const int64_t> reserved,
                                                 std::span<const std::string> /*generations*/,
                                                 std::span<const int64_t> actual, int64_t now_ms) {
  settle_now(counters, reserved, actual, now_ms);
  co_return true;
}

LocalLedger::Cell& LocalLedger::cell(Stripe& stripe, const KeyRef& key) {
  auto it = stripe.cells.find(key);
  if (it != stripe.cells.end()) return it->second;
  return stripe.cells.emplace(HashedKey{std::string(key.key), key.hash}, Cell{}).first->second;
}

void LocalLedger::sweep(Stripe& stripe, int64_t now_ms) {
  if (++stripe.operations % kSweepEvery != 0) return;
  std::erase_if(stripe.cells, [now_ms](const auto& kv) { return kv.second.expires_ms <= now_ms; });
}

ReserveResult LocalLedger::reserve_now(std::span<const Counter> counters, std::span<const int64_t> amounts,
                                       int64_t now_ms) {
  ReserveResult result;
  reserve_with(counters, amounts, now_ms, nullptr, result);
  return result;
}

bool LocalLedger::reserve_leased(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                                 BudgetLeases& leases, ReserveResult& result) {
  return reserve_with(counters, amounts, now_ms, &leases, result);
}

bool LocalLedger::reserve_with(std::span<const Counter> counters, std::span<const int64_t> amounts, int64_t now_ms,
                               BudgetLeases* leases, ReserveResult& result) {
  result.states.resize(counters.size());
  auto& stripes = *stripes_;
  std::array<KeyRef, kMaxOnStack> keys_fixed;
  std::vector<KeyRef> keys_more;
  std::span<KeyRef> keys(keys_fixed.data(), std::min(counters.size(), kMaxOnStack));
  if (counters.size() > kMaxOnStack) {
    keys_more.resize(counters.size());
    keys = keys_more;
  }
  const uint64_t mask = hash_keys(counters, keys);
  StripeLocks locks(stripes, mask);
  // Swept before any cell is looked up: a sweep must never drop a cell this reserve points at.
  for (uint64_t m = mask; m != 0; m &= m - 1) sweep(stripes[std::countr_zero(m)], now_ms);
  const double now = static_cast<double>(now_ms);
  std::array<Cell*, kMaxOnStack> cells_fixed{};
  std::vector<Cell*> cells_more;
  auto cell_at = [&](std::size_t i) -> Cell*& {
    return i < kMaxOnStack ? cells_fixed[i] : cells_more[i - kMaxOnStack];
  };
  if (counters.size() > kMaxOnStack) cells_more.resize(counters.size() - kMaxOnStack);

  bool admitted = true;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const Counter& c = counters[i];
    const int64_t n = amounts[i];
    Cell& cl = cell(stripes[stripe_of(keys[i])], keys[i]);
    cell_at(i) = &cl;
    CounterState& s = result.states[i];
    if (c.algorithm == CounterAlgorithm::Gcra) {
      const double t = emission_interval(c);
      const double window = static_cast<double>(c.window_ms);
      const double tat = std::max(cl.tat_ms, now);
      const double new_tat = tat + static_cast<double>(n) * t;
      const bool fits = new_tat - now <= window + kEpsilon;
      const double level = fits ? new_tat - now : tat - now;  // ms of the window in use after (or without) n
      s.would_deny = !fits;
      s.remaining = std::max<int64_t>(0, static_cast<int64_t>(std::floor((window - level) / t + kEpsilon)));
      s.reset_ms = ceil_ms(level);
      if (!fits) s.retry_after_ms = n > c.limit ? -1 : std::max<int64_t>(1, ceil_ms(new_tat - window - now));
    } else {
      BudgetLeases::Limit decided{c.limit, 0};
      if (leases != nullptr) {
        decided = leases->budget_limit(c, n, cl.used, now_ms, cl.lease);
        if (cl.lease.known) cl.expires_ms = std::max(cl.expires_ms, now_ms + c.window_ms);  // the lease outlives a denial
      }
      const int64_t limit = decided.limit;
      const bool fits = cl.used + n <= limit;
      s.would_deny = !fits;
      s.remaining = std::max<int64_t>(0, limit - cl.used - (fits ? n : 0)) + decided.remaining_beyond;
      s.reset_ms = c.window_ms;
      if (!fits) s.retry_after_ms = n > limit ? -1 : c.window_ms;
    }
    if (s.would_deny && !c.shadow) admitted = false;
  }
  if (leases != nullptr && leases->wait_for_lease) return false;
  result.admitted = admitted;
  if (!admitted) return true;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const Counter& c = counters[i];
    Cell& cl = *cell_at(i);
    if (c.algorithm == CounterAlgorithm::Gcra) {
      cl.tat_ms = std::max(cl.tat_ms, now) + static_cast<double>(amounts[i]) * emission_interval(c);
      cl.expires_ms = gcra_expiry(cl, c);
    } else {
      cl.used += amounts[i];
      cl.expires_ms = std::max(cl.expires_ms, now_ms + c.window_ms);
    }
  }
  return true;
}

void LocalLedger::settle_now(std::span<const Counter> counters, std::span<const int64_t> reserved,
                             std::span<const int64_t> actual, int64_t now_ms) {
  auto& stripes = *stripes_;
  std::array<KeyRef, kMaxOnStack> keys_fixed;
  std::vector<KeyRef> keys_more;
  std::span<KeyRef> keys(keys_fixed.data(), std::min(counters.size(), kMaxOnStack));
  if (counters.size() > kMaxOnStack) {
    keys_more.resize(counters.size());
    keys = keys_more;
  }
  StripeLocks locks(stripes, hash_keys(counters, keys));
  const double now = static_cast<double>(now_ms);
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const Counter& c = counters[i];
    const int64_t delta = actual[i] - reserved[i];
    if (delta == 0) continue;
    Cell& cl = cell(stripes[stripe_of(keys[i])], keys[i]);
    if (c.algorithm == CounterAlgorithm::Gcra) {
      cl.tat_ms = std::max(cl.tat_ms + static_cast<double>(delta) * emission_interval(c), now);
      cl.expires_ms = gcra_expiry(cl, c);
    } else {
      cl.used = std::max<int64_t>(0, cl.used + delta);
      cl.expires_ms = std::max(cl.expires_ms, now_ms + c.window_ms);
    }
  }
}

void LocalLedger::charge(const Counter& counter, int64_t amount, int64_t now_ms) {
  const int64_t zero = 0;
  settle_now(std::span(&counter, 1), std::span(&zero, 1), std::span(&amount, 1), now_ms);
}

int64_t LocalLedger::budget_used(const Counter& counter, int64_t now_ms) const {
  const KeyRef key = key_of(counter);
  Stripe& stripe = (*stripes_)[stripe_of(key)];
  std::lock_guard lock(stripe.mutex);
  const auto it = stripe.cells.find(key);
  if (it == stripe.cells.end() || it->second.expires_ms <= now_ms) return 0;
  return it->second.used;
}

void LocalLedger::update_lease(const Counter& counter, int64_t keep_until_ms,
                               const std::function<void(int64_t used, BudgetLease& lease)>& update) {
  const KeyRef key = key_of(counter);
  Stripe& stripe = (*stripes_)[stripe_of(key)];
  std::lock_guard lock(stripe.mutex);
  Cell& cl = cell(stripe, key);
  cl.expires_ms = std::max(cl.expires_ms, keep_until_ms);
  update(cl.used, cl.lease);
}

std::size_t LocalLedger::counters_held() const {
  std::size_t n = 0;
  for (auto& s : *stripes_) {
    std::lock_guard lock(s.mutex);
    n += s.cells.size();
  }
  return n;
}

}  // namespace tollway::limits
