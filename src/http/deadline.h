// Deadline: one timer per connection that enforces whichever timeout applies right now (idle, header read,
// body read, upstream first byte, whole exchange). Moving the deadline later costs nothing (the watcher
// re-arms when it wakes); on expiry it calls the owner's callback once, which cancels the pending I/O.
// It never closes sockets itself.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace tollway::http {

namespace asio = boost::asio;

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  Deadline(asio::any_io_executor executor, std::function<void()> on_expire);
  ~Deadline() { stop(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expire_at(clock::time_point t);
  void expire_after(clock::duration d) { expire_at(clock::now() + d); }
  void clear() { expire_at(clock::time_point::max()); }
  bool expired() const { return state_->expired; }
  void reset_expired() { state_->expired = false; }
  // Stops the watcher; the callback is not called afterwards.
  void stop();

 private:
  struct State {
    explicit State(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();
    std::function<void()> on_expire;
    bool expired = false;
    bool stopped = false;
  };
  static asio::awaitable<void> watch(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace tollway::http
