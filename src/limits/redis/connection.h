// RedisConnection: one pipelined RESP2 connection to one Redis server, owned by one single-threaded io_context
// (a gateway worker). Commands from any number of coroutines of that thread are written back to back and their
// replies matched in order (pipelining), with a connect timeout, a per-command timeout (an overdue reply drops
// the connection and fails everything in flight) and reconnection with exponential backoff: while backing off,
// a command fails at once instead of waiting. It takes no lock; it must never be used from another thread than
// its io_context's, nor from a multi-threaded io_context. `RedisConnection::of` finds (or makes) the one
// connection per (io_context, server) as an Asio service, so sockets never outlive their io_context.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "limits/redis/resp.h"

namespace tollway::limits::redis {

namespace asio = boost::asio;

struct RedisOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string username;  // AUTH username password (Redis 6 ACL) when both are set
  std::string password;  // AUTH password when set
  int db = 0;            // SELECT when not 0
  int connect_timeout_ms = 250;
  int command_timeout_ms = 250;
  int reconnect_min_ms = 50;    // first backoff after a failure; doubles per failure
  int reconnect_max_ms = 2000;  // ... up to this

  // host:port/db/user: one connection per distinct value per io_context.
  std::string endpoint_key() const;
};

// A reply, or why there is none (transport failure, timeout, protocol error, backing off). A Redis error reply
// (-ERR ...) is a reply: ok with reply.type == RespType::Error.
struct RedisReply {
  bool ok = false;
  std::string error;
  RespValue reply;
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  // The connection to `options`' server that belongs to `executor`'s io_context (made on first use).
  static RedisConnection& of(const asio::any_io_executor& executor, const RedisOptions& options);

  RedisConnection(asio::any_io_executor executor, RedisOptions options);
  ~RedisConnection();

  // Sends one command (a RESP array from append_command) behind the ones in flight and waits for its reply.
  asio::awaitable<RedisReply> execute(std::string command);

  // Adds a command sent first on every (re)connection, after AUTH/SELECT and before anything queued (e.g. SCRIPT
  // LOAD), and now if connected; an error reply to it drops the connection. A `key` already added does nothing.
  void add_preamble(std::string_view key, const std::string& command);

  uint64_t commands_sent() const { return commands_sent_; }
  uint64_t connects() const { return connects_; }
  bool connected() const { return state_ == State::Connected; }
  // When a command may connect again after a failure (a past time point when it may now).
  std::chrono::steady_clock::time_point next_attempt() const { return retry_at_; }
  // Drops the socket and fails what is in flight (service shutdown, tests).
  void close(const std::string& why);

 private:
  enum class State { Disconnected, Connecting, Connected };
  struct Pending {
    std::chrono::steady_clock::time_point deadline;
    asio::any_completion_handler<void(RedisReply)> handler;  // empty for the handshake's own commands
  };

  void enqueue(std::string command, asio::any_completion_handler<void(RedisReply)> handler);
  void deliver(Pending& pending, RedisReply reply);
  void fail_all(const std::string& why);
  void arm_watchdog();
  void start_writing();
  asio::awaitable<void> connect_loop(uint64_t generation);
  asio::awaitable<void> read_loop(uint64_t generation);
  asio::awaitable<void> write_loop(uint64_t generation);
  asio::awaitable<void> watchdog_loop(uint64_t generation);

  asio::any_io_executor executor_;
  RedisOptions options_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer watchdog_;
  State state_ = State::Disconnected;
  uint64_t generation_ = 0;  // bumped whenever the socket is dropped; loops of an older generation exit
  std::deque<Pending> pending_;
  std::string out_;          // encoded commands not yet handed to the socket
  std::vector<std::pair<std::string, std::string>> preamble_;  // (key, command), see add_preamble
  bool writing_ = false;
  bool watchdog_armed_ = false;
  RespParser parser_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
  uint64_t commands_sent_ = 0;
  uint64_t connects_ = 0;
};

// The Asio service that keeps one RedisConnection per server for one io_context and drops them when the
// io_context shuts down.
class RedisConnections : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit RedisConnections(asio::execution_context& context) : asio::execution_context::service(context) {}
  RedisConnection& get(const asio::any_io_executor& executor, const RedisOptions& options);

 private:
  void shutdown() override;
  std::unordered_map<std::string, std::shared_ptr<RedisConnection>> by_endpoint_;
};

}  // namespace tollway::limits::redis
