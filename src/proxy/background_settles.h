// BackgroundSettles: a worker's requests whose settle waits on I/O (the strict ledger's Redis round trip), settled
// and logged beside the connection that served them, so that the connection's next request starts as soon as the
// previous response's last byte is written. Each runs settle then log exactly once, in the chain's order; it starts
// at once on the worker's thread and runs up to its first wait before start() returns (so a settle's command is
// queued on the worker's Redis connection before anything the connection does next). At most kMaxPending per
// worker; the engine's drain waits until none is pending. It never touches a socket and never drops a request:
// without room the caller settles in line (and the count says so).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "http/message.h"
#include "pipeline/request_ctx.h"
#include "proxy/admission.h"
#include "tls/server_context.h"

namespace tollway::proxy {

class BackgroundSettles {
 public:
  // Settles pending at once per worker; beyond it a connection settles its request before reading the next one.
  static constexpr std::size_t kMaxPending = 1024;

  // One request owed its settle and log, with everything they read that the connection would reuse: its
  // request head (bytes and views), the client certificate's identity, and its place under
  // limits.max_requests_in_flight (a request is in flight until settled).
  struct Request {
    pipeline::RequestCtx ctx;
    std::string head_bytes;
    http::RequestHead head;  // views into head_bytes
    std::optional<tls::PeerIdentity> peer_identity;
    Admission::RequestSlot slot;

    // Takes `ctx` (moved from) and copies what it views of the connection: `head`, whose views lie in
    // `head_bytes_in` (the connection's buffer) or are static, and the peer identity.
    Request(pipeline::RequestCtx&& from, const http::RequestHead& connection_head, std::string_view head_bytes_in,
            Admission::RequestSlot&& request_slot);
  };

  explicit BackgroundSettles(boost::asio::io_context& context) : context_(context) {}
  BackgroundSettles(const BackgroundSettles&) = delete;
  BackgroundSettles& operator=(const BackgroundSettles&) = delete;

  bool has_room() const { return pending() < kMaxPending; }
  // Runs `request`'s settle and log on the worker's thread (the caller's); call only there, with room.
  void start(std::unique_ptr<Request> request);
  // A request settled in line for want of room.
  void count_in_line() { in_line_.fetch_add(1, std::memory_order_relaxed); }

  // Read by the control thread (drain, /metrics).
  std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }
  uint64_t started() const { return started_.load(std::memory_order_relaxed); }
  uint64_t settled_in_line() const { return in_line_.load(std::memory_order_relaxed); }

 private:
  struct PendingCount;
  static boost::asio::awaitable<void> settle(std::unique_ptr<Request> request, PendingCount counted);

  boost::asio::io_context& context_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> in_line_{0};
};

}  // namespace tollway::proxy
