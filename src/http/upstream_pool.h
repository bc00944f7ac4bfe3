// Keep-alive connections to upstream origins, one pool per worker thread (so no locks). Connects with a
// timeout, does TLS with SNI and verification, and hands idle connections back out only while they are alive:
// each idle connection waits for its socket to turn readable (the origin closed it, or sent what nobody asked for)
// and is dropped then, so none lingers in CLOSE-WAIT.
// It never shares a connection between two requests at once and never retries a request by itself.
// connect_endpoint() and idle_connection_alive() are the same steps for the HTTP client (http/client.h).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "http/stream.h"

namespace tollway::http {

// Where an upstream lives; built once per snapshot and shared by all workers.
struct UpstreamEndpoint {
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  std::shared_ptr<asio::ssl::context> tls_context;  // set when tls
  std::string pool_key;                             // same key = interchangeable connections
  // When set (a sidecar's peer): the peer's verified certificate must carry exactly this SPIFFE ID; its DNS or
  // IP names are not checked (an X.509-SVID need not have any).
  std::string peer_spiffe_id;
};

// Why a new connection could not be made.
struct ConnectFailure {
  enum class Stage { Resolve, Connect, Handshake };
  Stage stage = Stage::Connect;
  bool timed_out = false;
  std::string message;  // a sentence naming the endpoint and the cause
  std::string reason;   // the cause alone; for a TLS handshake, the certificate verification result if it failed
};

// A new connection (TCP connect + TLS handshake) to `endpoint` within `timeout`; null with `failure` set.
asio::awaitable<std::unique_ptr<Stream>> connect_endpoint(asio::any_io_executor executor,
                                                          const UpstreamEndpoint& endpoint,
                                                          std::chrono::milliseconds timeout,
                                                          ConnectFailure& failure);

// An idle connection is alive when a non-blocking peek finds nothing to read: EOF or unsolicited bytes
// (a close_notify, a stray response) both mean it must not carry another request.
bool idle_connection_alive(tcp::socket& socket);

class UpstreamPool {
 public:
  explicit UpstreamPool(asio::any_io_executor executor, std::size_t max_idle_per_endpoint = 128,
                        std::chrono::seconds idle_timeout = std::chrono::seconds(60))
      : executor_(std::move(executor)), max_idle_(max_idle_per_endpoint), idle_timeout_(idle_timeout) {}

  // A live idle connection to `endpoint`, or null when there is none.
  std::unique_ptr<Stream> take_idle(const UpstreamEndpoint& endpoint);
  // A new connection (TCP connect + TLS handshake) within `timeout`. On failure returns null and sets
  // `error` to a sentence naming the endpoint and the cause; `timed_out` tells a timeout from a refusal.
  asio::awaitable<std::unique_ptr<Stream>> connect(const UpstreamEndpoint& endpoint,
                                                   std::chrono::milliseconds timeout, std::string& error,
                                                   bool& timed_out);
  // Returns a connection whose last response was read completely and which the origin keeps alive.
  void give_back(const UpstreamEndpoint& endpoint, std::unique_ptr<Stream> stream);

  std::size_t idle_count() const;
  void close_all();

 private:
  struct Idle {
    std::unique_ptr<Stream> stream;
    std::chrono::steady_clock::time_point since;
    uint64_t watch = 0;  // names the wait on its socket that give_back started
  };
  // The wait `watch` on `stream`'s socket found it readable: drop it, if it is still that idle entry.
  void drop_readable(const Stream* stream, uint64_t watch);

  asio::any_io_executor executor_;
  std::size_t max_idle_;
  std::chrono::seconds idle_timeout_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;
  uint64_t last_watch_ = 0;
};

}  // namespace tollway::http
