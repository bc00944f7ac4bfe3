// BackgroundSettles (proxy/background_settles.h): a request handed over on the worker's thread runs its settle
// before start() returns, up to the settle's first wait (so what the settle sends goes out before anything the
// connection does next), then the rest of the settle and the log phase once the wait ends; it is counted pending until then and holds
// its request slot; its head is a copy (the connection's buffer may be reused at once).
#include "proxy/background_settles.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

#include "pipeline/chain.h"
#include "pipeline/snapshot.h"

namespace tollway::proxy {
namespace {

namespace asio = boost::asio;
using Trace = std::vector<std::string>;

// Its settle records "settle.sent", waits 20 ms (the round trip), records "settle.done"; its log records the
// request's path and user agent as the request head says.
class SlowSettleFilter final : public pipeline::Filter {
 public:
  explicit SlowSettleFilter(Trace& trace) : trace_(trace) {}
  std::string_view name() const override { return "slow"; }
  asio::awaitable<void> settle(pipeline::RequestCtx&) override {
    trace_.push_back("settle.sent");
    asio::steady_timer round_trip(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await round_trip.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    trace_.push_back("settle.done");
  }
  bool settle_awaits_io(const pipeline::RequestCtx&) const override { return true; }
  void log(const pipeline::RequestCtx& ctx) override {
    trace_.push_back("log " + std::string(ctx.head->path()) + " " + std::string(ctx.head->find("user-agent").value_or("-")));
  }

 private:
  Trace& trace_;
};

TEST(BackgroundSettles, StartsTheSettleAtOnceAndLogsAfterItWithACopiedHead) {
  Trace trace;
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->chain.add<SlowSettleFilter>(trace);
  asio::io_context context;
  BackgroundSettles settles(context);
  Admission admission;
  config::Limits limits;

  std::string connection_buffer = "POST /v1/chat HTTP/1.1\r\nUser-Agent: agent-7\r\n\r\n";
  http::RequestHead head;
  head.method = std::string_view(connection_buffer).substr(0, 4);
  head.target = std::string_view(connection_buffer).substr(5, 8);
  head.headers.push_back({std::string_view(connection_buffer).substr(24, 10),
                          std::string_view(connection_buffer).substr(36, 7)});
  head.head_size = connection_buffer.size();
  pipeline::RequestCtx ctx;
  ctx.snapshot = snapshot;
  ctx.head = &head;
  ctx.settling_filters = 1;
  Admission::RequestSlot slot = admission.admit_request(limits);
  ASSERT_TRUE(slot.admitted());

  ASSERT_TRUE(settles.has_room());
  // As a connection does, on the worker's thread.
  asio::post(context, [&] {
    settles.start(std::make_unique<BackgroundSettles::Request>(std::move(ctx), head, connection_buffer,
                                                               std::move(slot)));
    trace.push_back("start returned");
    connection_buffer.assign(connection_buffer.size(), 'x');  // the connection reads its next request
  });
  context.poll();
  EXPECT_EQ(trace, (Trace{"settle.sent", "start returned"}));
  EXPECT_EQ(settles.pending(), 1u);
  EXPECT_EQ(settles.started(), 1u);
  EXPECT_EQ(admission.requests_in_flight(), 1u);  // in flight until settled

  context.run();
  EXPECT_EQ(trace, (Trace{"settle.sent", "start returned", "settle.done", "log /v1/chat agent-7"}));
  EXPECT_EQ(settles.pending(), 0u);
  EXPECT_EQ(admission.requests_in_flight(), 0u);
}

TEST(BackgroundSettles, ASettleCutByTheWorkersEndIsNoLongerCountedPending) {
  Trace trace;
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->chain.add<SlowSettleFilter>(trace);
  auto context = std::make_unique<asio::io_context>();
  BackgroundSettles settles(*context);
  http::RequestHead head;
  pipeline::RequestCtx ctx;
  ctx.snapshot = snapshot;
  ctx.head = &head;
  ctx.settling_filters = 1;
  asio::post(*context, [&] {
    settles.start(std::make_unique<BackgroundSettles::Request>(std::move(ctx), head, std::string_view(),
                                                               Admission::RequestSlot()));
  });
  context->poll();
  EXPECT_EQ(settles.pending(), 1u);
  context.reset();  // past the drain deadline the worker's context goes with what it still runs
  EXPECT_EQ(settles.pending(), 0u);
  EXPECT_EQ(trace, Trace{"settle.sent"});
}

}  // namespace
}  // namespace tollway::proxy
