// Worker: one event-loop thread of the proxy with its own io_context, one SO_REUSEPORT acceptor per listener of
// the role, upstream pool,
// metrics and copy of the active snapshot. Everything in it is touched only by its own thread, except the
// atomics that the control thread reads and the post_* calls that hand work to the thread.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "http/upstream_pool.h"
#include "pipeline/snapshot.h"
#include "proxy/accept_errors.h"
#include "proxy/admission.h"
#include "proxy/background_settles.h"
#include "proxy/handshake_refusals.h"
#include "proxy/role.h"
#include "telemetry/request_metrics.h"

namespace tollway::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class DownstreamConnection;

class Worker {
 public:
  // `admission` is the process's, shared by every worker.
  Worker(int index, const Role& role, Admission& admission, std::shared_ptr<const pipeline::Snapshot> snapshot);
  ~Worker();

  // Opens the listening socket of the snapshot's listener `listener` (SO_REUSEPORT, shared with this process's
  // other workers only: `join_existing` for every worker after the first) on this worker's context; throws
  // http::ListenError.
  void listen(std::size_t listener, const tcp::endpoint& endpoint, bool join_existing);
  tcp::endpoint local_endpoint(std::size_t listener) const { return acceptors_[listener].local_endpoint(); }
  int listening_descriptor(std::size_t listener) { return acceptors_[listener].native_handle(); }
  // Runs the worker's thread (set-up and timers); clients are accepted from accept() on.
  void start();
  void accept();
  // Runs `setup` on this worker's thread; completes (on the caller's executor) with its result.
  asio::awaitable<bool> set_up(asio::awaitable<bool> setup);
  // Completes (on the caller's executor) once this worker uses `snapshot` for new requests.
  asio::awaitable<void> apply_snapshot(std::shared_ptr<const pipeline::Snapshot> snapshot);
  // A copy of this worker's request metrics, taken on its thread; completes on the caller's executor.
  asio::awaitable<telemetry::RequestMetrics> metrics_copy();
  // Stop accepting, close idle keep-alive connections, and answer in-flight requests with Connection: close.
  void post_drain();
  void stop_and_join();

  asio::io_context& context() { return context_; }
  int open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // Per listener: failed, refused or timed-out handshakes on this worker's connections, since the start, by reason.
  HandshakeRefusals& handshake_refusals(std::size_t listener) { return *handshake_refusals_[listener]; }
  const HandshakeRefusals& handshake_refusals(std::size_t listener) const { return *handshake_refusals_[listener]; }
  // Per listener: failed accepts on this worker, since the start, by reason.
  const AcceptErrors& accept_errors(std::size_t listener) const { return *accept_errors_[listener]; }

  // Worker-thread state, used by its connections.
  const std::shared_ptr<const pipeline::Snapshot>& snapshot() const { return snapshot_; }
  const Role& role() const { return role_; }
  Admission& admission() { return admission_; }
  BackgroundSettles& settles() { return settles_; }
  const BackgroundSettles& settles() const { return settles_; }
  http::UpstreamPool& pool() { return pool_; }
  telemetry::RequestMetrics& metrics() { return metrics_; }
  bool draining() const { return draining_; }
  std::list<DownstreamConnection*>::iterator register_connection(DownstreamConnection* c);
  void unregister_connection(std::list<DownstreamConnection*>::iterator it);

 private:
  asio::awaitable<void> accept_loop(std::size_t listener);
  asio::awaitable<void> swap_snapshot(std::shared_ptr<const pipeline::Snapshot> snapshot);
  asio::awaitable<telemetry::RequestMetrics> copy_metrics();
  // Every kSweepInterval, cancels the I/O of connections whose deadline passed (timeouts' resolution). With
  // no connection open it sleeps until one registers or the worker drains (an idle worker has no timer
  // ticking).
  asio::awaitable<void> sweep_loop();

  int index_;
  const Role& role_;
  Admission& admission_;
  // Declared before the context: destroying the context destroys suspended connections, which unregister
  // here.
  std::list<DownstreamConnection*> connections_;
  std::atomic<int> open_connections_{0};
  std::vector<std::unique_ptr<HandshakeRefusals>> handshake_refusals_;  // per listener
  std::vector<std::unique_ptr<AcceptErrors>> accept_errors_;            // per listener
  // Declared before the context too: destroying the context destroys pending settles, which count down here.
  BackgroundSettles settles_{context_};
  // One thread runs it; other threads only post to it, so the reactor needs no locking.
  asio::io_context context_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer sweep_timer_{context_};
  std::vector<tcp::acceptor> acceptors_;  // one per listener, same index
  std::thread thread_;
  std::shared_ptr<const pipeline::Snapshot> snapshot_;
  http::UpstreamPool pool_;
  telemetry::RequestMetrics metrics_;
  bool draining_ = false;
};

}  // namespace tollway::proxy
