#include "sidecar/hop_registry.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tollway::sidecar {
namespace {

InFlightRequest request(uint8_t trace_byte, uint8_t span_byte, uint32_t hops,
                        std::string caller = "spiffe://t/a") {
  InFlightRequest r;
  r.trace_id.bytes[15] = trace_byte;
  r.span_id.bytes[7] = span_byte;
  r.hops = hops;
  r.caller = std::move(caller);
  return r;
}

TEST(InFlightRegistry, AnEntryStaysUntilItsLastHandleIsReleased) {
  InFlightRegistry registry;
  auto handle = registry.enter(request(1, 1, 1));
  EXPECT_EQ(registry.size(), 1u);
  auto copy = handle;
  handle.reset();
  EXPECT_EQ(registry.size(), 1u);
  copy.reset();
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_FALSE(registry.find_trace(request(1, 1, 1).trace_id));
}

TEST(InFlightRegistry, FindTraceReturnsTheMostRecentRequestOfThatTrace) {
  InFlightRegistry registry;
  auto first = registry.enter(request(7, 1, 1));
  auto other = registry.enter(request(8, 2, 5));
  auto deeper = registry.enter(request(7, 3, 3));  // the same trace came back (a loop): the later, deeper one
  const auto found = registry.find_trace(request(7, 0, 0).trace_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->hops, 3u);
  EXPECT_EQ(found->span_id.bytes[7], 3);
  deeper.reset();
  EXPECT_EQ(registry.find_trace(request(7, 0, 0).trace_id)->hops, 1u);
  EXPECT_FALSE(registry.find_trace(request(9, 0, 0).trace_id));
}

TEST(InFlightRegistry, OrphanViewCountsAndNamesTheMostRecent) {
  InFlightRegistry registry;
  EXPECT_EQ(registry.orphan_view().in_flight, 0u);
  EXPECT_FALSE(registry.orphan_view().most_recent);
  auto a = registry.enter(request(1, 1, 1, "spiffe://t/a"));
  auto b = registry.enter(request(2, 2, 1, "spiffe://t/b"));
  auto view = registry.orphan_view();
  EXPECT_EQ(view.in_flight, 2u);
  EXPECT_EQ(view.most_recent->caller, "spiffe://t/b");
  b.reset();
  view = registry.orphan_view();
  EXPECT_EQ(view.in_flight, 1u);
  EXPECT_EQ(view.most_recent->caller, "spiffe://t/a");
}

TEST(InFlightRegistry, ManyWorkersEnterAndLeaveConcurrently) {
  InFlightRegistry registry;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&registry, w] {
      for (int i = 0; i < 2000; ++i) {
        auto handle =
            registry.enter(request(static_cast<uint8_t>(w + 1), static_cast<uint8_t>(i % 250 + 1), 1));
        EXPECT_TRUE(registry.find_trace(request(static_cast<uint8_t>(w + 1), 0, 0).trace_id));
        EXPECT_GE(registry.orphan_view().in_flight, 1u);
      }
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace tollway::sidecar
