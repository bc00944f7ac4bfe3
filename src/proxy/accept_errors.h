// AcceptErrors: one listener's failed accepts, counted by reason for tollway_accept_errors_total{listener,reason},
// and the pause that follows a failure for want of a resource (descriptors, kernel memory): the pending
// connection stays in the kernel's queue and the listener stays readable, so accepting again at once would spin
// a core. Each such episode is logged twice (when it starts, and when an accept succeeds again, with its count),
// never once per failure. Counts may be read from any thread; record() and accepted() are called from the
// listener's own thread only. It never accepts or closes a socket itself.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/system/error_code.hpp>

namespace tollway::proxy {

enum class AcceptError { ProcessDescriptors, SystemDescriptors, KernelMemory, Other };
inline constexpr std::array<AcceptError, 4> kAllAcceptErrors{AcceptError::ProcessDescriptors,
                                                             AcceptError::SystemDescriptors,
                                                             AcceptError::KernelMemory, AcceptError::Other};
// The metric label: "emfile", "enfile", "enobufs" (ENOBUFS or ENOMEM) or "other".
const char* accept_error_name(AcceptError error);

class AcceptErrors {
 public:
  // How long accepting pauses after a resource failure (nginx pauses its accept events alike).
  static constexpr std::chrono::milliseconds kPause{100};

  explicit AcceptErrors(std::string listener) : listener_(std::move(listener)) {}

  // Counts one failed accept; true when the listener should pause kPause before accepting again.
  bool record(const boost::system::error_code& ec);
  // An accept succeeded: ends a pause episode (logs its end).
  void accepted() {
    if (episode_failures_ > 0) end_episode();
  }
  uint64_t count(AcceptError error) const { return counts_[static_cast<std::size_t>(error)].load(std::memory_order_relaxed); }

 private:
  void end_episode();

  std::string listener_;
  std::array<std::atomic<uint64_t>, kAllAcceptErrors.size()> counts_{};
  uint64_t episode_failures_ = 0;  // resource failures since the episode started (0: none going on)
  std::chrono::steady_clock::time_point episode_start_{};
};

}  // namespace tollway::proxy
