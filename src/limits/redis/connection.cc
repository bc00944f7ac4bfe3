#include "limits/redis/connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace tollway::limits::redis {
namespace {

using Clock = std::chrono::steady_clock;
using boost::system::error_code;

}  // namespace

asio::execution_context::id RedisConnections::id;

std::string RedisOptions::endpoint_key() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(db) + "/" + username;
}

RedisConnection& RedisConnections::get(const asio::any_io_executor& executor, const RedisOptions& options) {
  auto& slot = by_endpoint_[options.endpoint_key()];
  if (!slot) slot = std::make_shared<RedisConnection>(executor, options);
  return *slot;
}

void RedisConnections::shutdown() {
  for (auto& [key, connection] : by_endpoint_) connection->close("the event loop is shutting down");
  by_endpoint_.clear();
}

RedisConnection& RedisConnection::of(const asio::any_io_executor& executor, const RedisOptions& options) {
  auto& context = asio::query(executor, asio::execution::context);
  return asio::use_service<RedisConnections>(context).get(executor, options);
}

RedisConnection::RedisConnection(asio::any_io_executor executor, RedisOptions options)
    : executor_(executor), options_(std::move(options)), socket_(executor), watchdog_(executor) {}

RedisConnection::~RedisConnection() = default;

asio::awaitable<RedisReply> RedisConnection::execute(std::string command) {
  if (state_ == State::Disconnected) {
    const auto now = Clock::now();
    if (now < retry_at_) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now).count();
      co_return RedisReply{false,
                           "redis " + options_.host + ":" + std::to_string(options_.port) + " unavailable (" +
                               last_error_ + "); next connection attempt in " + std::to_string(wait) + " ms",
                           {}};
    }
    state_ = State::Connecting;
    asio::co_spawn(executor_, connect_loop(generation_), asio::detached);
  }
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(RedisReply)>(
      [this, &command](asio::any_completion_handler<void(RedisReply)> handler) {
        enqueue(std::move(command), std::move(handler));
      },
      asio::use_awaitable);
}

void RedisConnection::enqueue(std::string command, asio::any_completion_handler<void(RedisReply)> handler) {
  out_ += command;
  pending_.push_back({Clock::now() + std::chrono::milliseconds(options_.command_timeout_ms), std::move(handler)});
  ++commands_sent_;
  arm_watchdog();
  start_writing();
}

void RedisConnection::start_writing() {
  if (state_ != State::Connected || writing_ || out_.empty()) return;
  writing_ = true;
  asio::co_spawn(executor_, write_loop(generation_), asio::detached);
}

void RedisConnection::add_preamble(std::string_view key, const std::string& command) {
  for (const auto& [k, c] : preamble_)
    if (k == key) return;
  if (state_ == State::Connected) {
    out_ += command;
    pending_.push_back({Clock::now() + std::chrono::milliseconds(options_.command_timeout_ms), {}});
    arm_watchdog();
    start_writing();
  }
  preamble_.emplace_back(std::string(key), command);
}

void RedisConnection::deliver(Pending& pending, RedisReply reply) {
  if (!pending.handler) return;
  // Posted, never called inline: the waiting coroutine resumes after the reader or the failure path is done
  // with the queue.
  asio::post(executor_, [handler = std::move(pending.handler), reply = std::move(reply)]() mutable {
    std::move(handler)(std::move(reply));
  });
}

void RedisConnection::fail_all(const std::string& why) {
  last_error_ = why;
  error_code ignored;
  socket_.close(ignored);
  watchdog_.cancel();
  watchdog_armed_ = false;
  ++generation_;
  state_ = State::Disconnected;
  writing_ = false;
  out_.clear();
  parser_ = RespParser();
  backoff_ = std::min(std::chrono::milliseconds(options_.reconnect_max_ms),
                      std::max(std::chrono::milliseconds(options_.reconnect_min_ms), backoff_ * 2));
  retry_at_ = Clock::now() + backoff_;
  std::deque<Pending> failed;
  failed.swap(pending_);
  for (auto& p : failed) deliver(p, RedisReply{false, why, {}});
}

void RedisConnection::close(const std::string& why) {
  fail_all(why);
  retry_at_ = {};
  backoff_ = std::chrono::milliseconds(0);
}

void RedisConnection::arm_watchdog() {
  if (watchdog_armed_ || pending_.empty()) return;
  watchdog_armed_ = true;
  asio::co_spawn(executor_, watchdog_loop(generation_), asio::detached);
}

asio::awaitable<void> RedisConnection::watchdog_loop(uint64_t generation) {
  auto self = shared_from_this();
  while (generation == generation_ && !pending_.empty()) {
    watchdog_.expires_at(pending_.front().deadline);
    error_code ec;
    co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (generation != generation_) co_return;
    if (!pending_.empty() && pending_.front().deadline <= Clock::now()) {
      fail_all(state_ == State::Connected
                   ? "no reply within " + std::to_string(options_.command_timeout_ms) + " ms"
                   : "not connected within " + std::to_string(options_.command_timeout_ms) + " ms");
      co_return;
    }
  }
  if (generation == generation_) watchdog_armed_ = false;
}

asio::awaitable<void> RedisConnection::connect_loop(uint64_t generation) {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  // as_tuple: a failed operation completes instead of throwing, so `||` ends with whichever finishes first
  // (with exceptions it would wait for the timer after a refused connection).
  constexpr auto no_throw = asio::experimental::as_tuple(asio::use_awaitable);
  std::string failure;
  asio::ip::tcp::resolver resolver(executor_);
  asio::steady_timer timer(executor_, std::chrono::milliseconds(options_.connect_timeout_ms));
  auto resolved = co_await (resolver.async_resolve(options_.host, std::to_string(options_.port), no_throw) ||
                            timer.async_wait(no_throw));
  if (generation != generation_) co_return;
  if (resolved.index() == 1) {
    failure = "resolving " + options_.host + " took longer than " + std::to_string(options_.connect_timeout_ms) +
              " ms";
  } else if (auto [ec, endpoints] = std::get<0>(resolved); ec) {
    failure = "resolving " + options_.host + ": " + ec.message();
  } else {
    asio::ip::tcp::socket socket(executor_);
    auto connected = co_await (asio::async_connect(socket, endpoints, no_throw) || timer.async_wait(no_throw));
    if (generation != generation_) co_return;
    if (connected.index() == 1) {
      failure = "connect to " + where + " took longer than " + std::to_string(options_.connect_timeout_ms) + " ms";
    } else if (auto [connect_ec, endpoint] = std::get<0>(connected); connect_ec) {
      failure = "connect to " + where + ": " + connect_ec.message();
    } else {
      boost::system::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      socket_ = std::move(socket);
    }
  }
  if (generation != generation_) co_return;
  if (!failure.empty()) {
    fail_all(failure);
    co_return;
  }
  // The handshake's commands go first, ahead of what queued while connecting; their replies are checked here.
  std::string handshake;
  std::size_t handshake_commands = 0;
  if (!options_.password.empty()) {
    if (options_.username.empty()) append_command(handshake, {"AUTH", options_.password});
    else append_command(handshake, {"AUTH", options_.username, options_.password});
    ++handshake_commands;
  }
  if (options_.db != 0) {
    append_command(handshake, {"SELECT", std::to_string(options_.db)});
    ++handshake_commands;
  }
  for (const auto& [key, command] : preamble_) {
    handshake += command;
    ++handshake_commands;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.command_timeout_ms);
  for (std::size_t i = 0; i < handshake_commands; ++i) pending_.push_front({deadline, {}});
  out_.insert(0, handshake);
  state_ = State::Connected;
  ++connects_;
  asio::co_spawn(executor_, read_loop(generation_), asio::detached);
  start_writing();
}

asio::awaitable<void> RedisConnection::write_loop(uint64_t generation) {
  auto self = shared_from_this();
  std::string buffer;
  while (generation == generation_ && !out_.empty()) {
    buffer.clear();
    buffer.swap(out_);
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (generation != generation_) co_return;
    if (ec) {
      fail_all("write to redis failed: " + ec.message());
      co_return;
    }
  }
  if (generation == generation_) writing_ = false;
}

asio::awaitable<void> RedisConnection::read_loop(uint64_t generation) {
  auto self = shared_from_this();
  std::string buffer(16 * 1024, '\0');
  while (generation == generation_) {
    error_code ec;
    const std::size_t n =
        co_await socket_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (generation != generation_) co_return;
    if (ec) {
      fail_all(ec == asio::error::eof ? std::string("redis closed the connection")
                                      : "read from redis failed: " + ec.message());
      co_return;
    }
    std::string_view input(buffer.data(), n);
    while (!input.empty()) {
      RespValue value;
      const auto status = parser_.parse(input, value);
      if (status == RespParser::Status::NeedMore) break;
      if (status == RespParser::Status::Failed) {
        fail_all("malformed reply from redis: " + parser_.error());
        co_return;
      }
      if (pending_.empty()) {
        fail_all("redis sent a reply nobody asked for");
        co_return;
      }
      Pending front = std::move(pending_.front());
      pending_.pop_front();
      if (!front.handler && value.is_error()) {  // AUTH or SELECT refused
        fail_all("redis refused a connection setup command (AUTH, SELECT or SCRIPT LOAD): " + value.text);
        co_return;
      }
      backoff_ = std::chrono::milliseconds(0);
      deliver(front, RedisReply{true, {}, std::move(value)});
    }
  }
}

}  // namespace tollway::limits::redis
