#include "proxy/background_settles.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "pipeline/run.h"

namespace tollway::proxy {

namespace {

// `view` moved from `from` to the same offset in `to` when it lies in `from`; left alone otherwise (a literal).
std::string_view rebased(std::string_view view, std::string_view from, const std::string& to) {
  const char* data = view.data();
  if (data == nullptr || data < from.data() || data + view.size() > from.data() + from.size()) return view;
  return std::string_view(to.data() + (data - from.data()), view.size());
}

}  // namespace

// One pending settle: counted while its coroutine frame exists (until it completes, or until the worker's
// context is destroyed past the drain deadline).
struct BackgroundSettles::PendingCount {
  std::atomic<std::size_t>* count;
  explicit PendingCount(std::atomic<std::size_t>& c) : count(&c) { c.fetch_add(1, std::memory_order_relaxed); }
  PendingCount(PendingCount&& other) noexcept : count(std::exchange(other.count, nullptr)) {}
  PendingCount& operator=(PendingCount&&) = delete;
  ~PendingCount() {
    if (count != nullptr) count->fetch_sub(1, std::memory_order_relaxed);
  }
};

BackgroundSettles::Request::Request(pipeline::RequestCtx&& from, const http::RequestHead& connection_head,
                                    std::string_view head_bytes_in, Admission::RequestSlot&& request_slot)
    : ctx(std::move(from)), head_bytes(head_bytes_in), head(connection_head), slot(std::move(request_slot)) {
  head.method = rebased(head.method, head_bytes_in, head_bytes);
  head.target = rebased(head.target, head_bytes_in, head_bytes);
  head.authority = rebased(head.authority, head_bytes_in, head_bytes);
  for (http::Header& h : head.headers) {
    h.name = rebased(h.name, head_bytes_in, head_bytes);
    h.value = rebased(h.value, head_bytes_in, head_bytes);
  }
  ctx.head = &head;
  if (ctx.peer_identity != nullptr) peer_identity = *ctx.peer_identity;
  ctx.peer_identity = peer_identity ? &*peer_identity : nullptr;
}

void BackgroundSettles::start(std::unique_ptr<Request> request) {
  started_.fetch_add(1, std::memory_order_relaxed);
  // co_spawn dispatches: on this thread the settle runs at once, up to its first wait.
  boost::asio::co_spawn(context_, settle(std::move(request), PendingCount(pending_)), boost::asio::detached);
}

boost::asio::awaitable<void> BackgroundSettles::settle(std::unique_ptr<Request> request, PendingCount) {
  co_await pipeline::settle_and_log(request->ctx);
}

}  // namespace tollway::proxy
