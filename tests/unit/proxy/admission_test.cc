// Admission: the total and per-peer connection limits (IPv6 per /64, an unknown address held to the total only),
// the bound on requests in flight, the counts of what was refused, and the counts coming back to zero when worker
// threads admit and release at once.
#include "proxy/admission.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tollway::proxy {
namespace {

core::IpAddress v4(uint8_t last) {
  return core::IpAddress::v4({127, 0, 0, last});
}

core::IpAddress v6(uint8_t subnet, uint8_t host) {
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, subnet};
  b[15] = host;
  return core::IpAddress::v6(b);
}

TEST(Admission, TotalLimitRefusesAndReleases) {
  Admission admission;
  config::Limits limits;
  limits.max_connections = 2;
  ConnectionRefusal refusal;
  auto a = admission.admit_connection(v4(1), limits, refusal);
  auto b = admission.admit_connection(v4(2), limits, refusal);
  EXPECT_TRUE(a.admitted());
  EXPECT_TRUE(b.admitted());
  auto c = admission.admit_connection(v4(3), limits, refusal);
  EXPECT_FALSE(c.admitted());
  EXPECT_EQ(refusal, ConnectionRefusal::MaxConnections);
  EXPECT_EQ(admission.refused(ConnectionRefusal::MaxConnections), 1u);
  EXPECT_EQ(admission.open_connections(), 2u);
  a = Admission::ConnectionTicket();  // released
  EXPECT_EQ(admission.open_connections(), 1u);
  EXPECT_TRUE(admission.admit_connection(v4(3), limits, refusal).admitted());
  EXPECT_EQ(admission.open_connections(), 1u);  // the temporary ticket was released
}

TEST(Admission, PerPeerLimitCountsEachAddressAndIpv6Per64) {
  Admission admission;
  config::Limits limits;
  limits.max_connections_per_peer = 2;
  ConnectionRefusal refusal;
  std::vector<Admission::ConnectionTicket> held;
  for (int i = 0; i < 2; ++i) held.push_back(admission.admit_connection(v4(2), limits, refusal));
  EXPECT_FALSE(admission.admit_connection(v4(2), limits, refusal).admitted());
  EXPECT_EQ(refusal, ConnectionRefusal::MaxConnectionsPerPeer);
  EXPECT_TRUE(admission.admit_connection(v4(3), limits, refusal).admitted());
  // Two hosts of one /64 share its count; another /64 has its own.
  held.push_back(admission.admit_connection(v6(1, 1), limits, refusal));
  held.push_back(admission.admit_connection(v6(1, 2), limits, refusal));
  EXPECT_FALSE(admission.admit_connection(v6(1, 3), limits, refusal).admitted());
  EXPECT_TRUE(admission.admit_connection(v6(2, 1), limits, refusal).admitted());
  // A peer whose address is unknown is held to the total only.
  EXPECT_TRUE(admission.admit_connection(std::nullopt, limits, refusal).admitted());
  EXPECT_EQ(admission.refused(ConnectionRefusal::MaxConnectionsPerPeer), 2u);
  held.erase(held.begin());  // one of 127.0.0.2's closes
  EXPECT_TRUE(admission.admit_connection(v4(2), limits, refusal).admitted());
  held.clear();
  EXPECT_EQ(admission.open_connections(), 0u);
}

TEST(Admission, RequestsInFlightAreBoundedAndShedCounted) {
  Admission admission;
  config::Limits limits;
  limits.max_requests_in_flight = 1;
  auto first = admission.admit_request(limits);
  EXPECT_TRUE(first.admitted());
  EXPECT_FALSE(admission.admit_request(limits).admitted());
  EXPECT_EQ(admission.shed_requests(), 1u);
  EXPECT_EQ(admission.requests_in_flight(), 1u);
  Admission::RequestSlot moved = std::move(first);
  EXPECT_EQ(admission.requests_in_flight(), 1u);
  moved = Admission::RequestSlot();
  EXPECT_EQ(admission.requests_in_flight(), 0u);
  EXPECT_TRUE(admission.admit_request(limits).admitted());
}

// Worker threads admit and release at once: the counts come back to zero and never pass the limits.
TEST(Admission, ThreadsShareTheLimits) {
  Admission admission;
  config::Limits limits;
  limits.max_connections = 64;
  limits.max_connections_per_peer = 8;
  std::atomic<bool> over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Admission::ConnectionTicket> held;
      ConnectionRefusal refusal;
      for (int i = 0; i < 20000; ++i) {
        held.push_back(admission.admit_connection(v4(static_cast<uint8_t>((i + t) % 4)), limits, refusal));
        if (admission.open_connections() > limits.max_connections) over = true;
        if (held.size() == 12) held.clear();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(admission.open_connections(), 0u);
  ConnectionRefusal refusal;
  std::vector<Admission::ConnectionTicket> held;
  for (int i = 0; i < 8; ++i) held.push_back(admission.admit_connection(v4(0), limits, refusal));
  for (const auto& h : held) EXPECT_TRUE(h.admitted());  // no count of 127.0.0.0 was left behind
}

}  // namespace
}  // namespace tollway::proxy
