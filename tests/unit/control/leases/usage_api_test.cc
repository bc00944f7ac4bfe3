// UsageApi across a change of writer: two control planes' UsageApis on one lease store (one leases.db opened twice,
// as two planes share one Redis). The first aggregates; the second loaded its book before any of that (a follower
// since its start). When the second takes a report — it has just become the writer — it must not grant from its
// outdated book: the store refuses the save as stale, the book is loaded again and learns for one lease lifetime
// (the holder keeps what the first plane granted it, nothing new), nobody's reported use is lost, and after the
// learning period it grants again.
#include "control/leases/usage_api.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "core/strict_json.h"

namespace tollway::control::leases {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr int64_t kStart = 1'800'000'000'000;
constexpr int64_t kLimit = 10'000;
const std::string kKey = "budget|fleet-tokens|2027-01";
// The sha256 of "token-a" and "token-b".
constexpr const char* kTokenA = "a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8";
constexpr const char* kTokenB = "49e2bb7eab54cf09b409ffafd3fa8a8a955a60eb972faacaefbed3dbd3207132";

CheckedPolicy two_gateways() {
  CheckedPolicy p;
  for (const auto& [id, token] : {std::pair{"gw-a", kTokenA}, std::pair{"gw-b", kTokenB}}) {
    DeclaredNode n;
    n.id = id;
    n.labels = {{"role", "gateway"}};
    n.token_sha256 = token;
    p.nodes.push_back(n);
    NodeDocument d;
    d.node = id;
    d.bytes = "version: 1\n# the budgets are read by the test's ReadBudgets\n";
    d.version = "v1";
    d.content_version = "c1";
    p.documents.push_back(d);
  }
  return p;
}

struct Granted {
  int status = 0;
  int64_t granted = -1, spent = -1;
  std::string body;
};

class UsageApiHandoverTest : public ::testing::Test {
 protected:
  UsageApiHandoverTest() {
    char tmpl[] = "/tmp/tollway-usage-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fleet_.publish(two_gateways());
  }
  ~UsageApiHandoverTest() override { std::filesystem::remove_all(dir_); }

  template <typename T>
  T run(std::function<asio::awaitable<T>()> body) {
    auto done = asio::co_spawn(context_, body(), asio::use_future);
    context_.restart();
    context_.run();
    return done.get();
  }
  // A plane's UsageApi on the shared leases.db, opened (and learning) at `now_ms`.
  std::unique_ptr<UsageApi> open_plane(int64_t now_ms) {
    std::string error;
    auto store = SqliteLeaseStore::open(dir_ + "/leases.db", error);
    EXPECT_NE(store, nullptr) << error;
    ReadBudgets budgets = [](NodeRole, const std::string&) {
      return std::optional<std::map<std::string, int64_t, std::less<>>>({{"fleet-tokens", kLimit}});
    };
    auto api = run<std::unique_ptr<UsageApi>>([&]() -> asio::awaitable<std::unique_ptr<UsageApi>> {
      co_return co_await UsageApi::open(fleet_, auth_, budgets, std::move(store),
                                        LeaseSettings{.sync_interval_ms = 1'000, .lease_ttl_ms = 10'000}, now_ms,
                                        error);
    });
    EXPECT_NE(api, nullptr) << error;
    return api;
  }
  Granted report(UsageApi& api, const std::string& node, int64_t seq, int64_t used, double rate, int64_t held,
                 int64_t now_ms) {
    const std::string token = node == "gw-a" ? "token-a" : "token-b";
    const std::string authorization = "Bearer " + token;
    http::RequestHead head;
    head.headers.push_back({"Authorization", authorization});
    proxy::AdminRequest request;
    request.method = "POST";
    request.path = "/v1/usage";
    request.head = &head;
    request.body = R"({"node":")" + node + R"(","incarnation":"boot-1","seq":)" + std::to_string(seq) +
                   R"(,"keys":[{"key":")" + kKey + R"(","limit":)" + std::to_string(kLimit) +
                   R"(,"used":)" + std::to_string(used) + R"(,"rate":)" + std::to_string(rate) +
                   R"(,"held":)" + std::to_string(held) + R"(,"ends_in_ms":86400000}]})";
    const proxy::AdminResponse response = run<proxy::AdminResponse>(
        [&]() -> asio::awaitable<proxy::AdminResponse> { co_return co_await api.usage(request, now_ms); });
    Granted g{.status = response.status, .body = response.body};
    std::string error;
    const auto json = core::strict_json::parse(response.body, error);
    if (response.status != 200 || !json) return g;
    const auto& lease = json->find("leases")->items().at(0);
    g.granted = lease.find("granted")->as_int();
    g.spent = lease.find("spent")->as_int();
    return g;
  }

  asio::io_context context_;
  Fleet fleet_{30s, 5min};
  NodeAuth auth_{fleet_};

 private:
  std::string dir_;
};

TEST_F(UsageApiHandoverTest, ANewWriterWithAnOutdatedBookReloadsItAndLearnsInsteadOfGrantingTwice) {
  auto first = open_plane(kStart);
  auto second = open_plane(kStart);  // a follower: its book is the store as it was at its start (empty)
  const int64_t t = kStart + 20'000;  // both past the learning period that began at their start
  const Granted a1 = report(*first, "gw-a", 1, 0, 0, 0, t);
  const Granted b1 = report(*first, "gw-b", 1, 0, 0, 0, t);
  ASSERT_EQ(a1.status, 200) << a1.body;
  ASSERT_EQ(b1.status, 200) << b1.body;
  ASSERT_GT(b1.granted, 0);
  const Granted a2 = report(*first, "gw-a", 2, 1'000, 1'000, a1.granted, t + 1'000);
  ASSERT_EQ(a2.status, 200) << a2.body;

  // The first plane dies; the second is the writer now. gw-b reports there with the lease the first granted it.
  const Granted b2 = report(*second, "gw-b", 2, 500, 500, b1.granted, t + 2'000);
  ASSERT_EQ(b2.status, 200) << b2.body;
  EXPECT_EQ(b2.granted, b1.granted) << "learning: gw-b keeps its lease and gets nothing new";
  EXPECT_EQ(b2.spent, 1'500) << "gw-a's reported use is counted";
  const Granted a3 = report(*second, "gw-a", 3, 1'200, 200, a2.granted, t + 2'100);
  ASSERT_EQ(a3.status, 200) << a3.body;
  EXPECT_EQ(a3.granted, a2.granted);
  std::string metrics;
  second->render_metrics(metrics, t + 2'100);
  EXPECT_NE(metrics.find("tollway_control_lease_book_reloads_total 1\n"), std::string::npos) << metrics;

  // One lease lifetime after the reload, it grants again, within what the budget has left.
  const int64_t learned = t + 2'000 + 10'000 + 1;
  const Granted b3 = report(*second, "gw-b", 3, 600, 50, b2.granted, learned);
  ASSERT_EQ(b3.status, 200) << b3.body;
  EXPECT_GT(b3.granted, 600);
  const auto& state = second->book().keys().at(kKey);
  const auto totals = LeaseBook::totals(state, learned);
  EXPECT_LE(totals.spent + totals.leased, kLimit);
  EXPECT_EQ(totals.spent, 1'800);
}

}  // namespace
}  // namespace tollway::control::leases
