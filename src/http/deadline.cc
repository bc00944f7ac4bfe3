#include "http/deadline.h"

namespace tollway::http {

Deadline::Deadline(asio::any_io_executor executor, std::function<void()> on_expire)
    : state_(std::make_shared<State>(executor)) {
  state_->on_expire = std::move(on_expire);
  state_->timer.expires_at(clock::time_point::max());
  asio::co_spawn(executor, watch(state_), asio::detached);
}

void Deadline::expire_at(clock::time_point t) {
  state_->deadline = t;
  // Only an earlier deadline needs to wake the watcher now; a later one is picked up when it wakes.
  if (t < state_->timer.expiry()) state_->timer.expires_at(t);
}

void Deadline::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->on_expire = nullptr;
  state_->timer.cancel();
}

asio::awaitable<void> Deadline::watch(std::shared_ptr<State> state) {
  while (!state->stopped) {
    const auto now = clock::now();
    if (state->deadline <= now) {
      state->deadline = clock::time_point::max();
      state->expired = true;
      if (state->on_expire) state->on_expire();
      continue;
    }
    state->timer.expires_at(state->deadline);
    boost::system::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace tollway::http
