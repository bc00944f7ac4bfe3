#include "gateway/worker.h"

#include "core/log.h"
#include "gateway/client_connection.h"

namespace tollway::gateway {

Worker::Worker(int index, std::shared_ptr<const pipeline::Snapshot> snapshot)
    : index_(index),
      work_(asio::make_work_guard(context_)),
      acceptor_(context_),
      snapshot_(std::move(snapshot)),
      pool_(context_.get_executor()) {}

Worker::~Worker() { stop_and_join(); }

void Worker::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Worker::start() {
  asio::co_spawn(context_, sweep_loop(), asio::detached);
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::accept() { asio::co_spawn(context_, accept_loop(), asio::detached); }

asio::awaitable<bool> Worker::set_up(asio::awaitable<bool> setup) {
  co_return co_await asio::co_spawn(context_, std::move(setup), asio::use_awaitable);
}

// No capturing coroutine lambdas here: with GCC 12 their captures were read after the closure was freed
// (ASan heap-use-after-free); member coroutines keep their arguments in their own frame.
asio::awaitable<void> Worker::apply_snapshot(std::shared_ptr<const pipeline::Snapshot> snapshot) {
  co_await asio::co_spawn(context_, swap_snapshot(std::move(snapshot)), asio::use_awaitable);
}

asio::awaitable<void> Worker::swap_snapshot(std::shared_ptr<const pipeline::Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  co_return;
}

asio::awaitable<telemetry::RequestMetrics> Worker::metrics_copy() {
  co_return co_await asio::co_spawn(context_, copy_metrics(), asio::use_awaitable);
}

asio::awaitable<telemetry::RequestMetrics> Worker::copy_metrics() { co_return metrics_; }

void Worker::post_drain() {
  asio::post(context_, [this] {
    draining_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (ClientConnection* c : connections_) c->on_drain();
    pool_.close_all();
  });
}

void Worker::stop_and_join() {
  if (!thread_.joinable()) return;
  work_.reset();
  context_.stop();
  thread_.join();
}

std::list<ClientConnection*>::iterator Worker::register_connection(ClientConnection* c) {
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  return connections_.insert(connections_.end(), c);
}

void Worker::unregister_connection(std::list<ClientConnection*>::iterator it) {
  connections_.erase(it);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> Worker::sweep_loop() {
  constexpr auto kSweepInterval = std::chrono::milliseconds(50);
  asio::steady_timer timer(context_);
  while (!(draining_ && connections_.empty())) {
    timer.expires_after(kSweepInterval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const auto now = std::chrono::steady_clock::now();
    for (ClientConnection* c : connections_) c->sweep(now);
  }
}

asio::awaitable<void> Worker::accept_loop() {
  while (!draining_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      log::warn("accept failed", json::ObjectWriter().field("worker", index_).field("error", ec.message()));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<ClientConnection>(*this, std::move(socket));
    asio::co_spawn(context_, [connection]() { return connection->serve(); }, asio::detached);
  }
}

}  // namespace tollway::gateway
