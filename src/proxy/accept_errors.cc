#include "proxy/accept_errors.h"

#include <cerrno>

#include "core/log.h"

namespace tollway::proxy {

const char* accept_error_name(AcceptError error) {
  switch (error) {
    case AcceptError::ProcessDescriptors:
      return "emfile";
    case AcceptError::SystemDescriptors:
      return "enfile";
    case AcceptError::KernelMemory:
      return "enobufs";
    case AcceptError::Other:
      break;
  }
  return "other";
}

bool AcceptErrors::record(const boost::system::error_code& ec) {
  AcceptError error = AcceptError::Other;
  if (ec.category() == boost::system::system_category()) {
    if (ec.value() == EMFILE)
      error = AcceptError::ProcessDescriptors;
    else if (ec.value() == ENFILE)
      error = AcceptError::SystemDescriptors;
    else if (ec.value() == ENOBUFS || ec.value() == ENOMEM)
      error = AcceptError::KernelMemory;
  }
  counts_[static_cast<std::size_t>(error)].fetch_add(1, std::memory_order_relaxed);
  if (error == AcceptError::Other) {
    // The connection failed, not the listener (e.g. reset before it was accepted): the next accept may succeed.
    log::debug("accept failed", json::ObjectWriter().field("listener", listener_).field("error", ec.message()));
    return false;
  }
  if (episode_failures_++ == 0) {
    episode_start_ = std::chrono::steady_clock::now();
    log::warn("accepting paused: out of a resource; retrying every " + std::to_string(kPause.count()) + " ms",
              json::ObjectWriter()
                  .field("listener", listener_)
                  .field("reason", accept_error_name(error))
                  .field("error", ec.message()));
  }
  return true;
}

void AcceptErrors::end_episode() {
  const auto paused =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - episode_start_);
  log::info("accepting again", json::ObjectWriter()
                                   .field("listener", listener_)
                                   .field("failed_accepts", episode_failures_)
                                   .field("paused_ms", static_cast<int64_t>(paused.count())));
  episode_failures_ = 0;
}

}  // namespace tollway::proxy
