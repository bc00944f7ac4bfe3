#include "telemetry/export_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tollway::telemetry {
namespace {

// Appends up to max_items ready items to `out` with try_consume (the telemetry thread's way); returns how many.
template <typename T>
std::size_t drain(BoundedQueue<T>& q, std::vector<T>& out, std::size_t max_items) {
  std::size_t n = 0;
  while (n < max_items && q.try_consume([&out](T& item) { out.push_back(std::move(item)); })) ++n;
  return n;
}

// Moves the next ready item into `out`; false when none is ready.
template <typename T>
bool pop(BoundedQueue<T>& q, T& out) {
  return q.try_consume([&out](T& item) { out = std::move(item); });
}

TEST(BoundedQueue, RoundsCapacityAndKeepsFifoOrder) {
  BoundedQueue<int> q(5);
  EXPECT_EQ(q.capacity(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(q.try_push(int{i}));
  EXPECT_FALSE(q.try_push(99));
  EXPECT_EQ(q.dropped(), 1u);
  EXPECT_EQ(q.pushed(), 8u);
  EXPECT_EQ(q.size_approx(), 8u);
  std::vector<int> out;
  EXPECT_EQ(drain(q, out, 3), 3u);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(q.try_push(8));  // room again after a drain
  EXPECT_EQ(drain(q, out, 100), 6u);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  int x;
  EXPECT_FALSE(pop(q, x));
  EXPECT_EQ(drain(q, out, 100), 0u);
}

TEST(BoundedQueue, WrapsAroundManyTimes) {
  BoundedQueue<int> q(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(q.try_push(int{next_in++}));
    int v;
    for (int k = 0; k < 3; ++k) {
      ASSERT_TRUE(pop(q, v));
      ASSERT_EQ(v, next_out++);
    }
  }
  EXPECT_EQ(q.dropped(), 0u);
}

TEST(BoundedQueue, MovesItemsInAndOut) {
  BoundedQueue<std::string> q(2);
  std::string s(1000, 'x');
  const char* storage = s.data();
  EXPECT_TRUE(q.try_push(std::move(s)));
  EXPECT_TRUE(q.try_consume([&](std::string& item) {
    EXPECT_EQ(item.size(), 1000u);
    EXPECT_EQ(item.data(), storage) << "moved in, used where it lies";
  }));
  EXPECT_FALSE(q.try_consume([](std::string&) { ADD_FAILURE() << "nothing is left"; }));
  EXPECT_TRUE(q.try_push(std::string(2000, 'y')));
  std::string popped;
  ASSERT_TRUE(pop(q, popped));
  EXPECT_EQ(popped.size(), 2000u);
}

// Producers never block and every item is either delivered exactly once or counted as dropped.
TEST(BoundedQueue, ConcurrentProducersCountDropsExactly) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50000;
  BoundedQueue<uint64_t> q(256);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> refused{0};
  std::vector<uint64_t> received;
  std::thread consumer([&] {
    std::vector<uint64_t> batch;
    while (!done.load(std::memory_order_acquire) || q.size_approx() > 0) {
      batch.clear();
      if (drain(q, batch, 64) == 0) std::this_thread::yield();
      received.insert(received.end(), batch.begin(), batch.end());
    }
    batch.clear();
    drain(q, batch, SIZE_MAX);
    received.insert(received.end(), batch.begin(), batch.end());
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      uint64_t local_refused = 0;
      for (int i = 0; i < kPerProducer; ++i) {
        uint64_t item = (uint64_t(p) << 32) | uint64_t(i);
        if (!q.try_push(std::move(item))) ++local_refused;
      }
      refused.fetch_add(local_refused);
    });
  }
  for (auto& t : producers) t.join();
  done.store(true, std::memory_order_release);
  consumer.join();

  const uint64_t total = uint64_t(kProducers) * kPerProducer;
  EXPECT_EQ(q.dropped(), refused.load());
  EXPECT_EQ(q.pushed() + q.dropped(), total);
  EXPECT_EQ(received.size(), q.pushed());
  // No duplicates, and each producer's items arrive in the order it pushed them.
  std::set<uint64_t> unique(received.begin(), received.end());
  EXPECT_EQ(unique.size(), received.size());
  std::vector<int64_t> last(kProducers, -1);
  for (uint64_t item : received) {
    const auto p = static_cast<std::size_t>(item >> 32);
    const auto i = static_cast<int64_t>(item & 0xFFFFFFFF);
    ASSERT_LT(p, last.size());
    EXPECT_GT(i, last[p]);
    last[p] = i;
  }
}

// A full queue with no consumer: every push beyond capacity is a counted drop, from all threads.
TEST(BoundedQueue, FullQueueDropsFromAllProducers) {
  BoundedQueue<int> q(64);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p)
    producers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) q.try_push(int{i});
    });
  for (auto& t : producers) t.join();
  EXPECT_EQ(q.pushed(), 64u);
  EXPECT_EQ(q.dropped(), 4000u - 64u);
}

}  // namespace
}  // namespace tollway::telemetry
