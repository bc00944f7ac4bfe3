// RedisLeaseStore against a real redis-server: what a save writes loads back whole (holders, limits, period ends)
// with each incarnation's sequence number, dropped keys are forgotten, a store object whose Redis another one wrote
// since it loaded is refused as stale (two control planes on one Redis), data it did not write is refused at load,
// and Redis gone is an error that names the server.
#include "control/leases/redis_lease_store.h"

#include <gtest/gtest.h>

#include "key_reports.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "limits/redis/redis_server.h"

namespace tollway::control::leases {
namespace {

namespace asio = boost::asio;
using namespace test_reports;

// A store on a real redis-server; `run` drives one coroutine on its own io_context to the end.
class RedisLeaseStoreTest : public ::testing::Test {
 protected:
  testing::RedisServer redis;
  asio::io_context context;

  limits::redis::RedisOptions options() const {
    limits::redis::RedisOptions o;
    o.port = redis.port();
    o.connect_timeout_ms = 1000;
    o.command_timeout_ms = 1000;
    return o;
  }
  // The connection's reader keeps the io_context busy, so run until the body is done, not until idle.
  void run(std::function<asio::awaitable<void>()> body) {
    auto done = asio::co_spawn(context, body(), asio::use_future);
    context.restart();
    while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      context.run_one_for(std::chrono::milliseconds(10));
    done.get();
  }
  std::string cli(const std::string& args) const {
    const std::string command = "redis-cli -p " + std::to_string(redis.port()) + " " + args + " >/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return command;
  }
};

TEST_F(RedisLeaseStoreTest, WhatASaveWroteLoadsBackWithTheSequenceNumbers) {
  RedisLeaseStore store(context.get_executor(), options());
  LeaseBook book({});
  ASSERT_TRUE(book.report("gw-a", "boot-1", std::vector{report(100, 50)}, kNow).errors.empty());
  ASSERT_TRUE(book.report("gw-b", "boot-1", std::vector{report(300, 10)}, kNow).errors.empty());
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_FALSE((co_await store.last_seq("gw-a", "boot-1", error)).has_value());
    EXPECT_EQ(error, "");
    EXPECT_EQ(co_await store.save(book, kKeys, "gw-a", "boot-1", 7, error), SaveResult::Saved) << error;
    EXPECT_EQ(co_await store.last_seq("gw-a", "boot-1", error), std::optional<int64_t>(7));
    EXPECT_FALSE((co_await store.last_seq("gw-a", "boot-2", error)).has_value());  // another incarnation
    EXPECT_FALSE((co_await store.last_seq("gw-b", "boot-1", error)).has_value());  // another node
    LeaseBook loaded({});
    EXPECT_TRUE(co_await store.load(loaded, error)) << error;
    EXPECT_EQ(loaded.keys().size(), 1u);
    if (!loaded.keys().contains(kKey)) co_return;
    const BudgetKeyState& want = book.keys().at(kKey);
    const BudgetKeyState& got = loaded.keys().at(kKey);
    EXPECT_EQ(got.limit, want.limit);
    EXPECT_EQ(got.ends_ms, want.ends_ms);
    EXPECT_EQ(got.holders.size(), 2u);
    for (const auto& [holder, h] : want.holders) {
      if (!got.holders.contains(holder)) {
        ADD_FAILURE() << holder << " was not loaded";
        continue;
      }
      const Holding& g = got.holders.at(holder);
      EXPECT_EQ(g.used, h.used) << holder;
      EXPECT_EQ(g.granted, h.granted) << holder;
      EXPECT_EQ(g.expires_ms, h.expires_ms) << holder;
      EXPECT_EQ(g.closed, h.closed) << holder;
    }
  });
}

TEST_F(RedisLeaseStoreTest, KeysTheBookDroppedAreForgotten) {
  RedisLeaseStore store(context.get_executor(), options());
  LeaseBook book({});
  ASSERT_TRUE(book.report("gw-a", "boot-1", std::vector{report(100)}, kNow).errors.empty());
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_EQ(co_await store.save(book, kKeys, "gw-a", "boot-1", 1, error), SaveResult::Saved) << error;
    book.forget(kKey);
    EXPECT_TRUE(co_await store.forget_keys_not_in(book, error)) << error;
    LeaseBook loaded({});
    EXPECT_TRUE(co_await store.load(loaded, error)) << error;
    EXPECT_TRUE(loaded.keys().empty());
  });
}

// Two control planes on one Redis: the plane that loaded before the other wrote (a follower that just became the
// writer) is refused as stale and overwrites nothing — neither the writer's holders nor, by forgetting, its keys —
// until it has loaded again; then the first one is stale.
TEST_F(RedisLeaseStoreTest, AStoreWrittenByAnotherSinceRefusesTheSaveAsStaleUntilLoadedAgain) {
  RedisLeaseStore writer(context.get_executor(), options());
  RedisLeaseStore other(context.get_executor(), options());
  LeaseBook writers_book({});
  LeaseBook others_book({});
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_TRUE(co_await writer.load(writers_book, error)) << error;
    EXPECT_TRUE(co_await other.load(others_book, error)) << error;
    EXPECT_TRUE(writers_book.report("gw-a", "boot-1", std::vector{report(700)}, kNow).errors.empty());
    EXPECT_EQ(co_await writer.save(writers_book, kKeys, "gw-a", "boot-1", 1, error), SaveResult::Saved) << error;
    EXPECT_TRUE(others_book.report("gw-b", "boot-1", std::vector{report(50)}, kNow).errors.empty());
    EXPECT_EQ(co_await other.save(others_book, kKeys, "gw-b", "boot-1", 1, error), SaveResult::Stale);
    EXPECT_FALSE((co_await other.last_seq("gw-b", "boot-1", error)).has_value()) << "the stale save wrote its seq";
    others_book.forget(kKey);
    EXPECT_TRUE(co_await other.forget_keys_not_in(others_book, error)) << error;
    LeaseBook check({});
    EXPECT_TRUE(co_await writer.load(check, error)) << error;
    if (!check.keys().contains(kKey)) {
      ADD_FAILURE() << "the stale store forgot the writer's key";
      co_return;
    }
    EXPECT_EQ(check.keys().at(kKey).holders.size(), 1u);
    EXPECT_EQ(check.keys().at(kKey).holders.at("gw-a/boot-1").used, 700);
    LeaseBook reloaded({});
    EXPECT_TRUE(co_await other.load(reloaded, error)) << error;
    EXPECT_TRUE(reloaded.report("gw-b", "boot-1", std::vector{report(50)}, kNow).errors.empty());
    EXPECT_EQ(co_await other.save(reloaded, kKeys, "gw-b", "boot-1", 1, error), SaveResult::Saved) << error;
    EXPECT_EQ(co_await writer.save(writers_book, kKeys, "gw-a", "boot-1", 2, error), SaveResult::Stale);
  });
}

TEST_F(RedisLeaseStoreTest, AHashItDidNotWriteIsAnErrorAtLoad) {
  RedisLeaseStore store(context.get_executor(), options());
  cli("SADD tollway:leases:keys '" + kKey + "'");
  cli("HSET 'tollway:leases:key:" + kKey + "' limit 100 ends_ms 5 holder:gw-a/boot-1 '1 2 three 0'");
  run([&]() -> asio::awaitable<void> {
    std::string error;
    LeaseBook loaded({});
    EXPECT_FALSE(co_await store.load(loaded, error));
    EXPECT_NE(error.find("holder:gw-a/boot-1"), std::string::npos) << error;
  });
}

TEST_F(RedisLeaseStoreTest, RedisGoneIsAnErrorNamingTheServer) {
  RedisLeaseStore store(context.get_executor(), options());
  LeaseBook book({});
  ASSERT_TRUE(book.report("gw-a", "boot-1", std::vector{report(100)}, kNow).errors.empty());
  redis.kill();
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_EQ(co_await store.save(book, kKeys, "gw-a", "boot-1", 1, error), SaveResult::Failed);
    EXPECT_NE(error.find("cannot write the lease store: redis 127.0.0.1:" + std::to_string(redis.port())),
              std::string::npos)
        << error;
    error.clear();
    EXPECT_FALSE((co_await store.last_seq("gw-a", "boot-1", error)).has_value());
    EXPECT_NE(error.find("cannot read the lease store"), std::string::npos) << error;
  });
  EXPECT_EQ(store.where(), "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
}

}  // namespace
}  // namespace tollway::control::leases
