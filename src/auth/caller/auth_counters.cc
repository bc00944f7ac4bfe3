#include "auth/caller/auth_counters.h"

#include <unordered_map>

#include "core/prometheus_text.h"

namespace tollway::auth {

AuthCounters::Block& AuthCounters::local() {
  thread_local std::unordered_map<const AuthCounters*, Block*> mine;
  auto& slot = mine[this];
  if (slot == nullptr) {
    std::lock_guard lock(blocks_mutex_);
    blocks_.push_back(std::make_unique<Block>());
    slot = blocks_.back().get();
  }
  return *slot;
}

void AuthCounters::add(AuthMethod method, std::string_view reason) {
  std::size_t index = kReasons.size() - 1;
  for (std::size_t i = 0; i < kReasons.size(); ++i)
    if (kReasons[i] == reason) {
      index = i;
      break;
    }
  local().counts[static_cast<std::size_t>(method)][index].fetch_add(1, std::memory_order_relaxed);
}

void AuthCounters::render(std::string& out) const {
  namespace prometheus = core::prometheus;
  static constexpr std::string_view kMethods[] = {"virtual_key", "jwt", "spiffe", "none"};
  prometheus::family(out, "tollway_auth_requests_total", "counter",
                     "Caller authentication outcomes, by method and reason.");
  std::lock_guard lock(blocks_mutex_);
  for (std::size_t m = 0; m < std::size(kMethods); ++m) {
    for (std::size_t r = 0; r < kReasons.size(); ++r) {
      uint64_t total = 0;
      for (const auto& b : blocks_) total += b->counts[m][r].load(std::memory_order_relaxed);
      if (total == 0 && r != 0) continue;
      prometheus::sample(out, "tollway_auth_requests_total",
                         prometheus::labels({{"method", kMethods[m]}, {"result", kReasons[r]}}), total);
    }
  }
}

}  // namespace tollway::auth
