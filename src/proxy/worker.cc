#include "proxy/worker.h"

#include "core/log.h"
#include "http/listen_socket.h"
#include "proxy/downstream_connection.h"

namespace tollway::proxy {

Worker::Worker(int index, const Role& role, Admission& admission,
               std::shared_ptr<const pipeline::Snapshot> snapshot)
    : index_(index),
      role_(role),
      admission_(admission),
      work_(asio::make_work_guard(context_)),
      snapshot_(std::move(snapshot)),
      pool_(context_.get_executor()) {
  for (const auto& listener : snapshot_->serving.listeners) {
    acceptors_.emplace_back(context_);
    handshake_refusals_.push_back(std::make_unique<HandshakeRefusals>(listener.name));
    accept_errors_.push_back(std::make_unique<AcceptErrors>(listener.name));
  }
}

Worker::~Worker() {
  stop_and_join();
}

void Worker::listen(std::size_t listener, const tcp::endpoint& endpoint, bool join_existing) {
  const std::string what = snapshot_->serving.listeners[listener].name + " listener";
  http::open_shared_listener(acceptors_[listener], endpoint, join_existing, what.c_str());
}

void Worker::start() {
  asio::co_spawn(context_, sweep_loop(), asio::detached);
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::accept() {
  for (std::size_t i = 0; i < acceptors_.size(); ++i) asio::co_spawn(context_, accept_loop(i), asio::detached);
}

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

asio::awaitable<telemetry::RequestMetrics> Worker::copy_metrics() {
  co_return metrics_;
}

void Worker::post_drain() {
  asio::post(context_, [this] {
    draining_ = true;
    boost::system::error_code ignored;
    for (auto& acceptor : acceptors_) acceptor.close(ignored);
    sweep_timer_.cancel();
    for (DownstreamConnection* c : connections_) c->on_drain();
    pool_.close_all();
  });
}

void Worker::stop_and_join() {
  if (!thread_.joinable()) return;
  work_.reset();
  context_.stop();
  thread_.join();
}

std::list<DownstreamConnection*>::iterator Worker::register_connection(DownstreamConnection* c) {
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  if (connections_.empty()) sweep_timer_.cancel();  // the sweep loop sleeps while there is no connection
  return connections_.insert(connections_.end(), c);
}

void Worker::unregister_connection(std::list<DownstreamConnection*>::iterator it) {
  connections_.erase(it);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> Worker::sweep_loop() {
  constexpr auto kSweepInterval = std::chrono::milliseconds(50);
  while (!(draining_ && connections_.empty())) {
    if (connections_.empty() && !draining_)
      sweep_timer_.expires_at(asio::steady_timer::time_point::max());
    else
      sweep_timer_.expires_after(kSweepInterval);
    boost::system::error_code ec;
    co_await sweep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const auto now = std::chrono::steady_clock::now();
    for (DownstreamConnection* c : connections_) c->sweep(now);
  }
}

asio::awaitable<void> Worker::accept_loop(std::size_t listener) {
  AcceptErrors& errors = *accept_errors_[listener];
  asio::steady_timer pause(context_);
  while (!draining_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptors_[listener].async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      // Out of descriptors or kernel memory: the connection stays queued and the listener readable, so an
      // immediate retry would spin. Other workers and the admin listener go on meanwhile.
      if (errors.record(ec)) {
        pause.expires_after(AcceptErrors::kPause);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    errors.accepted();
    const std::optional<core::IpAddress> peer = peer_address(socket);
    ConnectionRefusal refusal;
    Admission::ConnectionTicket ticket = admission_.admit_connection(peer, snapshot_->serving.limits, refusal);
    if (!ticket.admitted()) {
      // Over a connection limit: closed at once, before a handshake or a byte is read (docs/configuration.md).
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection =
        std::make_shared<DownstreamConnection>(*this, listener, std::move(socket), peer, std::move(ticket));
    asio::co_spawn(
        context_, [connection]() { return connection->serve(); }, asio::detached);
  }
}

}  // namespace tollway::proxy
