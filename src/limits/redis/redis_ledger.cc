#include "limits/redis/redis_ledger.h"

#include <openssl/evp.h>

#include <boost/asio/this_coro.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "core/log.h"
#include "core/prometheus_text.h"
#include "limits/redis/ledger_scripts.h"

namespace tollway::limits::redis {
namespace {

namespace asio = boost::asio;

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* algorithm_code(CounterAlgorithm a) { return a == CounterAlgorithm::Gcra ? "g" : "b"; }

// The generation of a counter a script call creates: 64 random bits, so a key created again (after Redis lost
// it) practically never gets the generation an open reservation remembers from its earlier life.
std::string fresh_generation() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random()));
  return text;
}

// A denied counter's retry hint while the store is unreachable: the store, not the counter, decides it.
constexpr int64_t kStoreDownRetryAfterMs = 1000;

}  // namespace

RedisLedger::RedisLedger(RedisLedgerOptions options, std::shared_ptr<Ledger> local_fallback)
    : options_(std::move(options)),
      local_(std::move(local_fallback)),
      reserve_sha_(sha1_hex(kReserveScript)),
      settle_sha_(sha1_hex(kSettleScript)) {
  append_command(load_reserve_, {"SCRIPT", "LOAD", kReserveScript});
  append_command(load_settle_, {"SCRIPT", "LOAD", kSettleScript});
}

RedisConnection& RedisLedger::connection_of(const asio::any_io_executor& executor) {
  auto& connection = RedisConnection::of(executor, options_.redis);
  // Both scripts are loaded first on every (re)connection, so EVALSHA finds them: no NOSCRIPT burst when many
  // requests arrive on a fresh connection at once. NOSCRIPT stays possible after a SCRIPT FLUSH.
  connection.add_preamble(reserve_sha_, load_reserve_);
  connection.add_preamble(settle_sha_, load_settle_);
  return connection;
}

asio::awaitable<bool> RedisLedger::connect(std::chrono::steady_clock::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  auto& connection = connection_of(executor);
  std::string ping;
  append_command(ping, {"PING"});
  asio::steady_timer backoff(executor);
  for (;;) {
    // The PING is answered after the scripts' SCRIPT LOAD (sent first on a new connection): ready to serve.
    RedisReply reply = co_await connection.execute(ping);
    if (reply.ok && !reply.reply.is_error()) {
      store_answered();
      co_return true;
    }
    const auto retry = std::max(connection.next_attempt(), std::chrono::steady_clock::now() +
                                                               std::chrono::milliseconds(options_.redis.reconnect_min_ms));
    if (retry >= deadline) {
      note_unreachable(reply.ok ? reply.reply.text : reply.error);
      co_return false;
    }
    backoff.expires_at(retry);
    co_await backoff.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<RedisReply> RedisLedger::run_script(const std::string& sha, std::string_view script,
                                                    const std::vector<std::string>& keys_and_args, std::size_t keys) {
  auto& connection = connection_of(co_await asio::this_coro::executor);
  const std::string key_count = std::to_string(keys);
  auto encode = [&](std::string_view verb, std::string_view body) {
    std::vector<std::string_view> args{verb, body, key_count};
    args.insert(args.end(), keys_and_args.begin(), keys_and_args.end());
    std::string command;
    append_command(command, args);
    return command;
  };
  script_commands_.fetch_add(1, std::memory_order_relaxed);
  RedisReply reply = co_await connection.execute(encode("EVALSHA", sha));
  if (reply.ok && reply.reply.is_error() && reply.reply.text.starts_with("NOSCRIPT")) {
    // First use on this server (or after SCRIPT FLUSH / a restart): EVAL also caches the script.
    noscript_reloads_.fetch_add(1, std::memory_order_relaxed);
    script_commands_.fetch_add(1, std::memory_order_relaxed);
    reply = co_await connection.execute(encode("EVAL", script));
  }
  co_return reply;
}

ReserveResult RedisLedger::parse_reserve_reply(const RespValue& reply, std::size_t counters, std::string& error) const {
  ReserveResult result;
  if (reply.type == RespType::Error) {
    error = "redis reserve script failed: " + reply.text;
    return result;
  }
  constexpr std::size_t kPerCounter = 5;  // would_deny, remaining, reset_ms, retry_after_ms, generation
  if (reply.type != RespType::Array || reply.elements.size() != 1 + kPerCounter * counters) {
    error = "redis reserve script returned an unexpected reply";
    return result;
  }
  for (std::size_t i = 0; i < reply.elements.size(); ++i) {
    const bool generation = i > 0 && (i - 1) % kPerCounter == kPerCounter - 1;
    if (reply.elements[i].type != (generation ? RespType::BulkString : RespType::Integer)) {
      error = "redis reserve script returned an unexpected element";
      return result;
    }
  }
  result.admitted = reply.elements[0].integer == 1;
  result.states.resize(counters);
  for (std::size_t i = 0; i < counters; ++i) {
    const auto* e = &reply.elements[1 + kPerCounter * i];
    result.states[i] = CounterState{e[0].integer == 1, e[1].integer, e[2].integer, e[3].integer, false, e[4].text};
  }
  return result;
}

asio::awaitable<ReserveResult> RedisLedger::reserve(std::span<const Counter> counters,
                                                    std::span<const int64_t> amounts, int64_t now_ms) {
  reserve_calls_.fetch_add(1, std::memory_order_relaxed);
  if (counters.empty()) co_return ReserveResult{true, {}, false, {}};
  std::vector<std::string> keys_and_args;
  keys_and_args.reserve(counters.size() * 6 + 3);
  for (const auto& c : counters) keys_and_args.push_back(options_.key_prefix + c.key);
  keys_and_args.push_back(std::to_string(now_ms));
  keys_and_args.push_back(std::to_string(options_.budget_ttl_slack_ms));
  keys_and_args.push_back(fresh_generation());
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const auto& c = counters[i];
    keys_and_args.push_back(algorithm_code(c.algorithm));
    keys_and_args.push_back(std::to_string(c.limit));
    keys_and_args.push_back(std::to_string(c.window_ms));
    keys_and_args.push_back(c.shadow ? "1" : "0");
    keys_and_args.push_back(std::to_string(amounts[i]));
  }
  RedisReply reply = co_await run_script(reserve_sha_, kReserveScript, keys_and_args, counters.size());
  std::string error = reply.error;
  if (reply.ok) {
    ReserveResult result = parse_reserve_reply(reply.reply, counters.size(), error);
    if (error.empty()) {
      store_answered();
      co_return result;
    }
  }
  co_return co_await reserve_without_store(counters, amounts, now_ms, std::move(error));
}

asio::awaitable<ReserveResult> RedisLedger::reserve_without_store(std::span<const Counter> counters,
                                                                  std::span<const int64_t> amounts, int64_t now_ms,
                                                                  std::string error) {
  store_failed(error);
  ReserveResult result;
  result.store_error = true;
  result.error = std::move(error);
  result.states.resize(counters.size());
  const bool local_allowed = local_ && local_fallback_active();
  bool denied = false;
  std::vector<Counter> local_counters;
  std::vector<int64_t> local_amounts;
  std::vector<std::size_t> local_index;
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const auto& c = counters[i];
    auto& state = result.states[i];
    OnStoreError behaviour = c.on_store_error;
    if (behaviour == OnStoreError::Local && !local_allowed) behaviour = OnStoreError::Deny;
    switch (behaviour) {
      case OnStoreError::Deny:
        denied_by_store_error_.fetch_add(1, std::memory_order_relaxed);
        state = CounterState{true, 0, 0, kStoreDownRetryAfterMs, true, {}};
        if (!c.shadow) denied = true;
        break;
      case OnStoreError::Allow:
        allowed_by_store_error_.fetch_add(1, std::memory_order_relaxed);
        state = CounterState{false, c.limit, 0, 0, true, {}};
        break;
      case OnStoreError::Local:
        local_fallback_decisions_.fetch_add(1, std::memory_order_relaxed);
        local_counters.push_back(c);
        local_amounts.push_back(amounts[i]);
        local_index.push_back(i);
        break;
    }
  }
  if (!local_counters.empty()) {
    ReserveResult local = co_await local_->reserve(local_counters, local_amounts, now_ms);
    for (std::size_t j = 0; j < local_index.size(); ++j) result.states[local_index[j]] = local.states[j];
    if (!local.admitted) {
      denied = true;
    } else if (denied) {
      // Another counter denies: give the in-process reservation back (all or nothing).
      std::vector<int64_t> zero(local_amounts.size(), 0);
      const std::vector<std::string> none(local_counters.size());
      co_await local_->settle(local_counters, local_amounts, none, zero, now_ms);
    } else {
      std::lock_guard lock(local_reservations_mutex_);
      for (std::size_t j = 0; j < local_counters.size(); ++j)
        local_reservations_.emplace(local_counters[j].key, local_amounts[j]);
      local_reservation_count_.fetch_add(local_counters.size(), std::memory_order_relaxed);
    }
  }
  result.admitted = !denied;
  co_return result;
}

asio::awaitable<bool> RedisLedger::settle(std::span<const Counter> counters, std::span<const int64_t> reserved,
                                          std::span<const std::string> generations, std::span<const int64_t> actual,
                                          int64_t now_ms) {
  settle_calls_.fetch_add(1, std::memory_order_relaxed);
  // Counters reserved in process during an outage settle there; the rest in Redis.
  std::vector<std::size_t> in_redis;
  std::vector<Counter> local_counters;
  std::vector<int64_t> local_reserved, local_actual;
  in_redis.reserve(counters.size());
  const bool any_local = local_reservation_count_.load(std::memory_order_relaxed) > 0;
  {
    std::unique_lock<std::mutex> lock(local_reservations_mutex_, std::defer_lock);
    if (any_local) lock.lock();
    for (std::size_t i = 0; i < counters.size(); ++i) {
      if (any_local && counters[i].on_store_error == OnStoreError::Local) {
        auto [first, last] = local_reservations_.equal_range(counters[i].key);
        auto match = std::find_if(first, last, [&](const auto& entry) { return entry.second == reserved[i]; });
        if (match != last) {
          local_reservations_.erase(match);
          local_reservation_count_.fetch_sub(1, std::memory_order_relaxed);
          local_counters.push_back(counters[i]);
          local_reserved.push_back(reserved[i]);
          local_actual.push_back(actual[i]);
          continue;
        }
      }
      in_redis.push_back(i);
    }
  }
  bool applied = true;
  if (!local_counters.empty()) {
    const std::vector<std::string> none(local_counters.size());
    applied = co_await local_->settle(local_counters, local_reserved, none, local_actual, now_ms);
  }
  if (in_redis.empty()) co_return applied;

  std::vector<std::string> keys_and_args;
  keys_and_args.reserve(in_redis.size() * 6 + 3);
  for (std::size_t i : in_redis) keys_and_args.push_back(options_.key_prefix + counters[i].key);
  keys_and_args.push_back(std::to_string(now_ms));
  keys_and_args.push_back(std::to_string(options_.budget_ttl_slack_ms));
  keys_and_args.push_back(fresh_generation());
  for (std::size_t i : in_redis) {
    keys_and_args.push_back(algorithm_code(counters[i].algorithm));
    keys_and_args.push_back(std::to_string(counters[i].limit));
    keys_and_args.push_back(std::to_string(counters[i].window_ms));
    keys_and_args.push_back(std::to_string(actual[i] - reserved[i]));
    // "" (nothing was reserved in Redis, e.g. a counter on_store_error: allow skipped) never matches a key.
    keys_and_args.push_back(generations[i]);
  }
  RedisReply reply = co_await run_script(settle_sha_, kSettleScript, keys_and_args, in_redis.size());
  if (!reply.ok || reply.reply.type != RespType::Integer) {
    store_failed(reply.ok ? "redis settle script failed: " + reply.reply.text : reply.error);
    settle_failures_.fetch_add(1, std::memory_order_relaxed);
    co_return false;
  }
  store_answered();
  co_return applied;
}

bool RedisLedger::local_fallback_active() const {
  const int64_t since = outage_since_ms_.load(std::memory_order_relaxed);
  return since == 0 || steady_ms() - since <= int64_t{options_.local_fallback_max_s} * 1000;
}

void RedisLedger::store_failed(const std::string& error) {
  store_errors_.fetch_add(1, std::memory_order_relaxed);
  note_unreachable(error);
}

void RedisLedger::note_unreachable(const std::string& error) {
  int64_t expected = 0;
  if (outage_since_ms_.compare_exchange_strong(expected, steady_ms(), std::memory_order_relaxed)) {
    outages_.fetch_add(1, std::memory_order_relaxed);
    log::warn("strict ledger: redis unreachable; counters follow their on_store_error",
              json::ObjectWriter()
                  .field("redis", options_.redis.host + ":" + std::to_string(options_.redis.port))
                  .field("error", error)
                  .field("local_fallback_max_s", options_.local_fallback_max_s));
  }
}

void RedisLedger::store_answered() {
  const int64_t since = outage_since_ms_.exchange(0, std::memory_order_relaxed);
  if (since != 0)
    log::info("strict ledger: redis reachable again; counters are strict again",
              json::ObjectWriter()
                  .field("redis", options_.redis.host + ":" + std::to_string(options_.redis.port))
                  .field("outage_ms", steady_ms() - since));
}

RedisLedgerStats RedisLedger::stats() const {
  RedisLedgerStats s;
  s.reserve_calls = reserve_calls_.load(std::memory_order_relaxed);
  s.settle_calls = settle_calls_.load(std::memory_order_relaxed);
  s.script_commands = script_commands_.load(std::memory_order_relaxed);
  s.noscript_reloads = noscript_reloads_.load(std::memory_order_relaxed);
  s.store_errors = store_errors_.load(std::memory_order_relaxed);
  s.outages = outages_.load(std::memory_order_relaxed);
  s.denied_by_store_error = denied_by_store_error_.load(std::memory_order_relaxed);
  s.allowed_by_store_error = allowed_by_store_error_.load(std::memory_order_relaxed);
  s.local_fallback_decisions = local_fallback_decisions_.load(std::memory_order_relaxed);
  s.settle_failures = settle_failures_.load(std::memory_order_relaxed);
  s.store_up = outage_since_ms_.load(std::memory_order_relaxed) == 0;
  return s;
}

void RedisLedger::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  const RedisLedgerStats s = stats();
  prometheus::family(out, "tollway_ledger_redis_up", "gauge",
                     "1 while the strict ledger's Redis answers, 0 during an outage.");
  prometheus::sample(out, "tollway_ledger_redis_up", "", s.store_up ? 1 : 0);
  prometheus::family(out, "tollway_ledger_redis_calls_total", "counter",
                     "Strict ledger operations, by operation.");
  prometheus::sample(out, "tollway_ledger_redis_calls_total", prometheus::labels({{"op", "reserve"}}),
                     s.reserve_calls);
  prometheus::sample(out, "tollway_ledger_redis_calls_total", prometheus::labels({{"op", "settle"}}),
                     s.settle_calls);
  prometheus::family(out, "tollway_ledger_redis_commands_total", "counter",
                     "Script commands sent to Redis (EVALSHA and EVAL); one round trip each.");
  prometheus::sample(out, "tollway_ledger_redis_commands_total", "", s.script_commands);
  prometheus::family(out, "tollway_ledger_redis_noscript_total", "counter",
                     "EVALSHA answered NOSCRIPT and was resent as EVAL.");
  prometheus::sample(out, "tollway_ledger_redis_noscript_total", "", s.noscript_reloads);
  prometheus::family(out, "tollway_ledger_redis_errors_total", "counter",
                     "Strict ledger operations Redis could not answer.");
  prometheus::sample(out, "tollway_ledger_redis_errors_total", "", s.store_errors);
  prometheus::family(out, "tollway_ledger_redis_outages_total", "counter",
                     "Transitions of the strict ledger's Redis to unreachable.");
  prometheus::sample(out, "tollway_ledger_redis_outages_total", "", s.outages);
  prometheus::family(out, "tollway_ledger_store_error_decisions_total", "counter",
                     "Counters decided without Redis, by the on_store_error behaviour applied.");
  for (const auto& [behaviour, n] :
       {std::pair{"deny", s.denied_by_store_error}, std::pair{"allow", s.allowed_by_store_error},
        std::pair{"local", s.local_fallback_decisions}})
    prometheus::sample(out, "tollway_ledger_store_error_decisions_total",
                       prometheus::labels({{"behaviour", behaviour}}), n);
  prometheus::family(
      out, "tollway_ledger_redis_settle_failures_total", "counter",
      "Settlements Redis did not apply (the reservation stays charged until the key expires).");
  prometheus::sample(out, "tollway_ledger_redis_settle_failures_total", "", s.settle_failures);
}

}  // namespace tollway::limits::redis
