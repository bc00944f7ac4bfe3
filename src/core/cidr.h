// IP addresses and CIDR networks as the config names them (e.g. telemetry.tracing.trust_incoming.peers) and
// the match of a connection's peer against them. Parsing is strict (dotted-quad IPv4 without leading zeros,
// RFC 4291 IPv6 text, a decimal prefix length in range, no host bits set) and happens at config load;
// matching is a few byte compares that never allocate. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the
// IPv4 address it maps: it matches IPv4 networks and never an IPv6 one, so `::/0` does not silently admit
// every IPv4 peer. No sockets, no Boost: callers convert their endpoint types into IpAddress.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tollway::core {

struct IpAddress {
  enum class Family : uint8_t { V4, V6 };
  Family family = Family::V4;
  std::array<uint8_t, 16>
      bytes{};  // network order; an IPv4 address uses the first 4 bytes, the rest stay zero

  static IpAddress v4(const std::array<uint8_t, 4>& b);
  // An IPv6 address; ::ffff:a.b.c.d becomes the IPv4 address a.b.c.d.
  static IpAddress v6(const std::array<uint8_t, 16>& b);
  // The textual form of one address (no prefix, no zone id); nullopt when `text` is not exactly one.
  static std::optional<IpAddress> parse(std::string_view text);

  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or a bare address (one host: /32 or /128). On failure returns nullopt and
  // sets `error` to what is wrong, e.g. "10.1.2.3/8 has host bits set (the network is 10.0.0.0/8)".
  static std::optional<Cidr> parse(std::string_view text, std::string& error);

  bool contains(const IpAddress& address) const;
  const IpAddress& network() const { return network_; }
  unsigned prefix_length() const { return prefix_length_; }
  std::string to_string() const;  // canonical: "10.0.0.0/8", "2001:db8::/32"
  bool operator==(const Cidr&) const = default;

 private:
  IpAddress network_;
  uint8_t prefix_length_ = 0;
};

// True when one of `networks` contains `address`.
bool any_contains(std::span<const Cidr> networks, const IpAddress& address);

}  // namespace tollway::core
