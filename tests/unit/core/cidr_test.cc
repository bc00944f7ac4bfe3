#include "core/cidr.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

// Counts every allocation of this test binary, so a test can show that matching allocates nothing.
namespace {
std::atomic<std::size_t> allocations{0};
}
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tollway::core {
namespace {

Cidr cidr(std::string_view text) {
  std::string error;
  auto c = Cidr::parse(text, error);
  EXPECT_TRUE(c) << text << ": " << error;
  return c.value_or(Cidr{});
}

std::string error_of(std::string_view text) {
  std::string error;
  EXPECT_FALSE(Cidr::parse(text, error)) << text << " was accepted";
  return error;
}

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

TEST(IpAddress, ParsesBothFamiliesAndMapsIpv4MappedIpv6ToIpv4) {
  EXPECT_EQ(ip("10.1.2.3"), IpAddress::v4({10, 1, 2, 3}));
  EXPECT_EQ(ip("::ffff:10.1.2.3"), IpAddress::v4({10, 1, 2, 3}));
  EXPECT_EQ(ip("::FFFF:0a01:0203"), IpAddress::v4({10, 1, 2, 3}));
  const IpAddress loopback6 = ip("::1");
  EXPECT_EQ(loopback6.family, IpAddress::Family::V6);
  EXPECT_EQ(loopback6.bytes[15], 1);
  EXPECT_EQ(loopback6.to_string(), "::1");
  EXPECT_EQ(ip("2001:DB8:0:0:0:0:0:1").to_string(), "2001:db8::1");
  // IPv4-compatible (deprecated ::a.b.c.d) is not the mapped form: it stays IPv6.
  EXPECT_EQ(ip("::10.1.2.3").family, IpAddress::Family::V6);
}

TEST(IpAddress, RejectsAnythingThatIsNotExactlyOneAddress) {
  for (const char* bad : {"", "10.1.2", "10.1.2.3.4", "10.1.2.256", "010.1.2.3", "10.1.2.3 ", " 10.1.2.3",
                          "1e.1.2.3", "0x0a.1.2.3", "10..2.3", "::1%eth0", "1:2:3:4:5:6:7:8:9",
                          "12345::", ":::", "2001:db8::g", "[::1]", "localhost", "10.1.2.3/32"})
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
}

TEST(Cidr, ParsesIpv4Ipv6AndBareAddresses) {
  EXPECT_EQ(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
  EXPECT_EQ(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(cidr("127.0.0.1/32").to_string(), "127.0.0.1/32");
  EXPECT_EQ(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
  EXPECT_EQ(cidr("::1/128").to_string(), "::1/128");
  EXPECT_EQ(cidr("::1").to_string(), "::1/128");
  EXPECT_EQ(cidr("::/0").to_string(), "::/0");
  EXPECT_EQ(cidr("2001:DB8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("fc00::/7").to_string(), "fc00::/7");
  EXPECT_EQ(cidr("10.0.0.128/25").to_string(), "10.0.0.128/25");
}

TEST(Cidr, AnIpv6NetworkInsideTheMappedRangeIsTheIpv4Network) {
  EXPECT_EQ(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
  EXPECT_EQ(cidr("::ffff:0:0/96"), cidr("0.0.0.0/0"));
  EXPECT_EQ(cidr("::ffff:127.0.0.1"), cidr("127.0.0.1/32"));
  // Shorter than /96 it is an IPv6 network (it also covers non-mapped addresses).
  EXPECT_EQ(cidr("::/80").network().family, IpAddress::Family::V6);
}

TEST(Cidr, RejectsMalformedTextAndPrefixesOutOfRange) {
  EXPECT_EQ(error_of("10.0.0.0/33"), "\"33\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("::/129"), "\"129\" is not a prefix length from 0 to 128 (IPv6)");
  EXPECT_EQ(error_of("10.0.0.0/"), "\"\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/08"), "\"08\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/-1"), "\"-1\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/+8"), "\"+8\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/8/8"), "\"8/8\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/ 8"), "\" 8\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0.0/1000"), "\"1000\" is not a prefix length from 0 to 32 (IPv4)");
  EXPECT_EQ(error_of("10.0.0/8"), "\"10.0.0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("/8"), "\"\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of(""), "\"\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("fe80::1%eth0/64"), "\"fe80::1%eth0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("example.com/24"), "\"example.com\" is not an IPv4 or IPv6 address");
}

TEST(Cidr, RejectsHostBitsNamingTheNetwork) {
  EXPECT_EQ(error_of("10.1.2.3/8"),
            "10.1.2.3/8 has host bits set (the network is 10.0.0.0/8; for one address use /32)");
  EXPECT_EQ(error_of("192.168.1.1/0"),
            "192.168.1.1/0 has host bits set (the network is 0.0.0.0/0; for one address use /32)");
  EXPECT_EQ(error_of("2001:db8::1/32"),
            "2001:db8::1/32 has host bits set (the network is 2001:db8::/32; for one address use /128)");
  EXPECT_EQ(error_of("fd00::/7"),
            "fd00::/7 has host bits set (the network is fc00::/7; for one address use /128)");
  EXPECT_NE(error_of("10.0.0.129/25").find("(the network is 10.0.0.128/25;"), std::string::npos);
}

TEST(Cidr, MatchesByPrefixWithinOneFamily) {
  const Cidr ten = cidr("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(ip("10.0.0.0")));
  EXPECT_TRUE(ten.contains(ip("10.255.255.255")));
  EXPECT_FALSE(ten.contains(ip("11.0.0.0")));
  EXPECT_FALSE(ten.contains(ip("9.255.255.255")));
  const Cidr odd = cidr("192.168.4.0/22");  // a prefix that is not a whole number of bytes
  EXPECT_TRUE(odd.contains(ip("192.168.7.255")));
  EXPECT_FALSE(odd.contains(ip("192.168.8.0")));
  EXPECT_FALSE(odd.contains(ip("192.168.3.255")));
  const Cidr host = cidr("127.0.0.1/32");
  EXPECT_TRUE(host.contains(ip("127.0.0.1")));
  EXPECT_FALSE(host.contains(ip("127.0.0.2")));
  const Cidr all4 = cidr("0.0.0.0/0");
  EXPECT_TRUE(all4.contains(ip("255.255.255.255")));
  EXPECT_FALSE(all4.contains(ip("::1"))) << "an IPv4 network never matches an IPv6 peer";
  const Cidr v6host = cidr("::1/128");
  EXPECT_TRUE(v6host.contains(ip("::1")));
  EXPECT_FALSE(v6host.contains(ip("::2")));
  EXPECT_FALSE(v6host.contains(ip("127.0.0.1")));
  const Cidr doc = cidr("2001:db8::/33");
  EXPECT_TRUE(doc.contains(ip("2001:db8:7fff::1")));
  EXPECT_FALSE(doc.contains(ip("2001:db8:8000::")));
  const Cidr all6 = cidr("::/0");
  EXPECT_TRUE(all6.contains(ip("fe80::1")));
  EXPECT_FALSE(all6.contains(ip("10.0.0.1"))) << "::/0 is every IPv6 peer, not every IPv4 one";
  EXPECT_FALSE(all6.contains(ip("::ffff:10.0.0.1")));
}

TEST(Cidr, Ipv4MappedIpv6PeersMatchIpv4Networks) {
  const IpAddress mapped = IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 8, 7});
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(mapped));
  EXPECT_TRUE(cidr("::ffff:10.9.0.0/112").contains(mapped));
  EXPECT_TRUE(cidr("10.9.8.7/32").contains(mapped));
  EXPECT_FALSE(cidr("10.9.8.6/32").contains(mapped));
}

TEST(Cidr, AnyContainsChecksEveryNetwork) {
  const std::vector<Cidr> trusted = {cidr("10.0.0.0/8"), cidr("127.0.0.1/32"), cidr("::1/128")};
  EXPECT_TRUE(any_contains(trusted, ip("10.20.30.40")));
  EXPECT_TRUE(any_contains(trusted, ip("127.0.0.1")));
  EXPECT_TRUE(any_contains(trusted, ip("::1")));
  EXPECT_FALSE(any_contains(trusted, ip("127.0.0.2")));
  EXPECT_FALSE(any_contains(trusted, ip("2001:db8::1")));
  EXPECT_FALSE(any_contains({}, ip("10.0.0.1")));
}

TEST(Cidr, MatchingAllocatesNothing) {
  const std::vector<Cidr> trusted = {cidr("10.0.0.0/8"), cidr("172.16.0.0/12"), cidr("fd00::/8"), cidr("::1/128")};
  const IpAddress peers[] = {ip("10.1.2.3"), ip("192.168.1.1"), ip("fd12::1"), ip("2001:db8::1"),
                             IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 172, 20, 0, 1})};
  const std::size_t probe = allocations.load();
  delete new std::vector<int>(100);
  ASSERT_GT(allocations.load(), probe) << "the counter sees this binary's allocations";
  const std::size_t before = allocations.load();
  std::size_t matched = 0;
  for (int round = 0; round < 1000; ++round)
    for (const IpAddress& peer : peers) matched += any_contains(trusted, peer) ? 1 : 0;
  EXPECT_EQ(allocations.load(), before);
  EXPECT_EQ(matched, 3000u);
}

}  // namespace
}  // namespace tollway::core
