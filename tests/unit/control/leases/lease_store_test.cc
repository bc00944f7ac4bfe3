// SqliteLeaseStore (leases.db): what a save writes loads back, and a store object writes only from the revision it
// loaded or last wrote — two objects on one file, as two control planes on one store: once one has written, the
// other's save is refused as stale and writes nothing (nor does its forget), until it has loaded the store again.
#include "control/leases/lease_store.h"

#include <gtest/gtest.h>

#include "key_reports.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tollway::control::leases {
namespace {

namespace asio = boost::asio;
using namespace test_reports;

class SqliteLeaseStoreTest : public ::testing::Test {
 protected:
  SqliteLeaseStoreTest() {
    char tmpl[] = "/tmp/tollway-leases-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~SqliteLeaseStoreTest() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<SqliteLeaseStore> open() {
    std::string error;
    auto store = SqliteLeaseStore::open(dir_ + "/leases.db", error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }
  // The store's operations complete without waiting: one run() drives a coroutine to its end.
  void run(std::function<asio::awaitable<void>()> body) {
    auto done = asio::co_spawn(context, body(), asio::use_future);
    context.restart();
    context.run();
    done.get();
  }
  asio::io_context context;

 private:
  std::string dir_;
};

TEST_F(SqliteLeaseStoreTest, WhatASaveWroteLoadsBack) {
  auto store = open();
  LeaseBook book({});
  ASSERT_TRUE(book.report("gw-a", "boot-1", std::vector{report(100, 50)}, kNow).errors.empty());
  run([&]() -> asio::awaitable<void> {
    std::string error;
    LeaseBook empty({});
    EXPECT_TRUE(co_await store->load(empty, error)) << error;
    EXPECT_EQ(co_await store->save(book, kKeys, "gw-a", "boot-1", 3, error), SaveResult::Saved) << error;
    EXPECT_EQ(co_await store->last_seq("gw-a", "boot-1", error), std::optional<int64_t>(3));
    LeaseBook loaded({});
    EXPECT_TRUE(co_await open()->load(loaded, error)) << error;
    if (!loaded.keys().contains(kKey)) {
      ADD_FAILURE() << "the key was not loaded";
      co_return;
    }
    const Holding& h = loaded.keys().at(kKey).holders.at("gw-a/boot-1");
    EXPECT_EQ(h.used, 100);
    EXPECT_EQ(h.granted, book.keys().at(kKey).holders.at("gw-a/boot-1").granted);
  });
}

TEST_F(SqliteLeaseStoreTest, AStoreWrittenByAnotherSinceRefusesTheSaveAsStaleUntilLoadedAgain) {
  auto writer = open();
  auto other = open();
  LeaseBook writers_book({});
  LeaseBook others_book({});
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_TRUE(co_await writer->load(writers_book, error)) << error;
    EXPECT_TRUE(co_await other->load(others_book, error)) << error;
    EXPECT_TRUE(writers_book.report("gw-a", "boot-1", std::vector{report(700)}, kNow).errors.empty());
    EXPECT_EQ(co_await writer->save(writers_book, kKeys, "gw-a", "boot-1", 1, error), SaveResult::Saved) << error;
    EXPECT_EQ(co_await writer->save(writers_book, kKeys, "gw-a", "boot-1", 2, error), SaveResult::Saved) << error;
    // The other book, loaded before those writes, knows nothing of gw-a: its save would overwrite the key.
    EXPECT_TRUE(others_book.report("gw-b", "boot-1", std::vector{report(50)}, kNow).errors.empty());
    EXPECT_EQ(co_await other->save(others_book, kKeys, "gw-b", "boot-1", 1, error), SaveResult::Stale);
    EXPECT_FALSE((co_await other->last_seq("gw-b", "boot-1", error)).has_value()) << "the stale save wrote its seq";
    // Its forget of the key (absent from its book) removes nothing.
    others_book.forget(kKey);
    EXPECT_TRUE(co_await other->forget_keys_not_in(others_book, error)) << error;
    LeaseBook check({});
    EXPECT_TRUE(co_await open()->load(check, error)) << error;
    if (!check.keys().contains(kKey)) {
      ADD_FAILURE() << "the stale store forgot the writer's key";
      co_return;
    }
    EXPECT_EQ(check.keys().at(kKey).holders.size(), 1u);
    EXPECT_EQ(check.keys().at(kKey).holders.at("gw-a/boot-1").used, 700);
    // Loaded again, it writes; now the first one is stale.
    LeaseBook reloaded({});
    EXPECT_TRUE(co_await other->load(reloaded, error)) << error;
    EXPECT_TRUE(reloaded.report("gw-b", "boot-1", std::vector{report(50)}, kNow).errors.empty());
    EXPECT_EQ(co_await other->save(reloaded, kKeys, "gw-b", "boot-1", 1, error), SaveResult::Saved) << error;
    EXPECT_EQ(co_await writer->save(writers_book, kKeys, "gw-a", "boot-1", 3, error), SaveResult::Stale);
    LeaseBook both({});
    EXPECT_TRUE(co_await open()->load(both, error)) << error;
    EXPECT_EQ(both.keys().at(kKey).holders.size(), 2u);
  });
}

TEST_F(SqliteLeaseStoreTest, KeysTheBookDroppedAreForgotten) {
  auto store = open();
  LeaseBook book({});
  ASSERT_TRUE(book.report("gw-a", "boot-1", std::vector{report(100)}, kNow).errors.empty());
  run([&]() -> asio::awaitable<void> {
    std::string error;
    EXPECT_EQ(co_await store->save(book, kKeys, "gw-a", "boot-1", 1, error), SaveResult::Saved) << error;
    book.forget(kKey);
    EXPECT_TRUE(co_await store->forget_keys_not_in(book, error)) << error;
    LeaseBook loaded({});
    EXPECT_TRUE(co_await open()->load(loaded, error)) << error;
    EXPECT_TRUE(loaded.keys().empty());
    // The forget counts as a write: the store moved on, and this object with it.
    book = LeaseBook({});
    EXPECT_TRUE(book.report("gw-a", "boot-1", std::vector{report(200)}, kNow).errors.empty());
    EXPECT_EQ(co_await store->save(book, kKeys, "gw-a", "boot-1", 2, error), SaveResult::Saved) << error;
  });
}

}  // namespace
}  // namespace tollway::control::leases
