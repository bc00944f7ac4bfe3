// Deadline: when the timeout that applies to a connection right now (idle, header read, body read, upstream
// first byte, whole exchange) runs out. Setting it is a plain store — no timer operation, no syscall per
// request; the owner's sweeper (one timer per worker thread) calls expire_if_due() and cancels the pending
// I/O of the connections whose deadline passed. It never touches sockets itself.
#pragma once

#include <chrono>

namespace tollway::http {

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  void expire_at(clock::time_point t) { at_ = t; }
  void expire_after(clock::duration d) { at_ = clock::now() + d; }
  void clear() { at_ = clock::time_point::max(); }
  // True once a sweep found the deadline passed, until reset.
  bool expired() const { return expired_; }
  void reset_expired() { expired_ = false; }
  // For the sweeper: true (once per deadline) when it has passed at `now`.
  bool expire_if_due(clock::time_point now) {
    if (at_ > now) return false;
    at_ = clock::time_point::max();
    expired_ = true;
    return true;
  }

 private:
  clock::time_point at_ = clock::time_point::max();
  bool expired_ = false;
};

}  // namespace tollway::http
