#include "sidecar/hop_registry.h"

#include <algorithm>
#include <functional>

namespace tollway::sidecar {

namespace {

// An entry's hold on the registry: leaves it when destroyed.
class Registration {
 public:
  explicit Registration(std::function<void()> leave) : leave_(std::move(leave)) {}
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() { leave_(); }

 private:
  std::function<void()> leave_;
};

}  // namespace

std::shared_ptr<void> InFlightRegistry::enter(InFlightRequest request) {
  uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex_);
    sequence = next_sequence_++;
    entries_.push_back({sequence, std::move(request)});
  }
  return std::make_shared<Registration>([this, sequence] { leave(sequence); });
}

void InFlightRegistry::leave(uint64_t sequence) {
  std::lock_guard lock(mutex_);
  const auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.sequence == sequence; });
  if (it != entries_.end()) entries_.erase(it);
}

std::optional<InFlightRequest> InFlightRegistry::find_trace(const telemetry::TraceId& trace_id) const {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->request.trace_id == trace_id) return it->request;
  return std::nullopt;
}

InFlightRegistry::OrphanView InFlightRegistry::orphan_view() const {
  std::lock_guard lock(mutex_);
  OrphanView view;
  view.in_flight = entries_.size();
  if (!entries_.empty()) view.most_recent = entries_.back().request;
  return view;
}

std::size_t InFlightRegistry::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tollway::sidecar
