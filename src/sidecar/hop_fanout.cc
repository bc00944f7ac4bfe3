#include "sidecar/hop_fanout.h"

#include <algorithm>

namespace tollway::sidecar {

void ExhaustedFanoutRoots::add(std::string_view root, int64_t expires_s, int64_t now_s) {
  if (expires_s <= now_s) return;
  std::lock_guard lock(mutex_);
  std::erase_if(expires_, [&](const auto& entry) { return entry.second <= now_s; });
  if (auto it = expires_.find(root); it != expires_.end()) {
    it->second = std::max(it->second, expires_s);
    return;
  }
  if (expires_.size() >= capacity_) {
    auto soonest = std::min_element(expires_.begin(), expires_.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
    expires_.erase(soonest);
  }
  expires_.emplace(std::string(root), expires_s);
}

bool ExhaustedFanoutRoots::contains(std::string_view root, int64_t now_s) const {
  std::lock_guard lock(mutex_);
  const auto it = expires_.find(root);
  return it != expires_.end() && it->second > now_s;
}

std::size_t ExhaustedFanoutRoots::size() const {
  std::lock_guard lock(mutex_);
  return expires_.size();
}

}  // namespace tollway::sidecar
