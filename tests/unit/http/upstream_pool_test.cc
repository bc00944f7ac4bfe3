// http::UpstreamPool against a real listener on 127.0.0.1 in the same io_context: an idle connection whose origin
// closes it is dropped from the pool while it waits (no CLOSE-WAIT until the next take), one whose origin keeps it
// is handed out again, and a connection taken out is no longer watched (the origin closing it then is the
// request's business, not the pool's).
#include "http/upstream_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace tollway::http {
namespace {

struct Loopback {
  asio::io_context context;
  tcp::acceptor acceptor{context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  UpstreamEndpoint endpoint;
  UpstreamPool pool{context.get_executor()};

  Loopback() {
    endpoint.host = "127.0.0.1";
    endpoint.port = acceptor.local_endpoint().port();
    endpoint.pool_key = "http://127.0.0.1:" + std::to_string(endpoint.port);
  }
  // A new pooled-to-be connection and the origin's end of it.
  std::pair<std::unique_ptr<Stream>, tcp::socket> connect() {
    std::string error;
    bool timed_out = false;
    auto client = asio::co_spawn(context, pool.connect(endpoint, std::chrono::seconds(5), error, timed_out),
                                 asio::use_future);
    auto server = acceptor.async_accept(asio::use_future);
    context.restart();
    while (client.wait_for(std::chrono::seconds(0)) != std::future_status::ready ||
           server.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      context.run_one();
    auto stream = client.get();
    EXPECT_NE(stream, nullptr) << error;
    return {std::move(stream), server.get()};
  }
  // Runs the context until `done` or `limit` passed.
  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    context.restart();
    while (!done() && std::chrono::steady_clock::now() < end) context.run_for(std::chrono::milliseconds(10));
    return done();
  }
};

TEST(UpstreamPool, DropsAnIdleConnectionAsSoonAsItsOriginClosesIt) {
  Loopback l;
  auto [closed_by_origin, origin_a] = l.connect();
  auto [kept_by_origin, origin_b] = l.connect();
  const Stream* kept = kept_by_origin.get();
  l.pool.give_back(l.endpoint, std::move(closed_by_origin));
  l.pool.give_back(l.endpoint, std::move(kept_by_origin));
  EXPECT_EQ(l.pool.idle_count(), 2u);
  origin_a.close();  // a FIN to the idle connection
  EXPECT_TRUE(l.run_until([&] { return l.pool.idle_count() == 1; }));
  auto taken = l.pool.take_idle(l.endpoint);
  EXPECT_EQ(taken.get(), kept);
  EXPECT_EQ(l.pool.idle_count(), 0u);
}

TEST(UpstreamPool, ATakenConnectionIsNoLongerWatched) {
  Loopback l;
  auto [stream, origin] = l.connect();
  l.pool.give_back(l.endpoint, std::move(stream));
  auto taken = l.pool.take_idle(l.endpoint);
  ASSERT_NE(taken, nullptr);
  origin.close();
  l.run_until([] { return false; }, std::chrono::milliseconds(200));  // the cancelled wait's handler runs
  EXPECT_TRUE(taken->socket().is_open());  // the request that holds it sees the close on its own read
  EXPECT_EQ(l.pool.idle_count(), 0u);
}

}  // namespace
}  // namespace tollway::http
