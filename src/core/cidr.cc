#include "core/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace tollway::core {
namespace {

// ::ffff:0:0/96, the IPv4-mapped IPv6 addresses.
constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct RawAddress {
  IpAddress::Family family;
  std::array<uint8_t, 16> bytes{};
};

// One address in its written family (an IPv4-mapped IPv6 address stays IPv6 here). inet_pton is strict: IPv4
// only as four decimal parts without leading zeros, IPv6 per RFC 4291 section 2.2, no zone id, no spaces.
std::optional<RawAddress> parse_raw(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string terminated(text);
  RawAddress out{IpAddress::Family::V4};
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, terminated.c_str(), out.bytes.data()) != 1) return std::nullopt;
    return out;
  }
  out.family = IpAddress::Family::V6;
  if (inet_pton(AF_INET6, terminated.c_str(), out.bytes.data()) != 1) return std::nullopt;
  return out;
}

bool is_mapped_v4(const std::array<uint8_t, 16>& b) {
  return std::memcmp(b.data(), kMappedPrefix.data(), 12) == 0;
}

unsigned bits_of(IpAddress::Family f) {
  return f == IpAddress::Family::V4 ? 32 : 128;
}

// Clears every bit after the first `prefix` bits; true when one was set.
bool clear_host_bits(std::array<uint8_t, 16>& b, unsigned prefix, unsigned total_bits) {
  bool had = false;
  for (unsigned i = 0; i < total_bits / 8; ++i) {
    const unsigned first = i * 8;
    uint8_t keep = 0xff;
    if (prefix <= first)
      keep = 0;
    else if (prefix < first + 8)
      keep = static_cast<uint8_t>(0xff << (first + 8 - prefix));
    had |= (b[i] & ~keep) != 0;
    b[i] &= keep;
  }
  return had;
}

// A decimal prefix length: digits only, no sign, no leading zero (except "0"), at most `max`.
std::optional<unsigned> parse_prefix(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

}  // namespace

IpAddress IpAddress::v4(const std::array<uint8_t, 4>& b) {
  IpAddress a;
  std::memcpy(a.bytes.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& b) {
  if (is_mapped_v4(b)) return v4({b[12], b[13], b[14], b[15]});
  IpAddress a;
  a.family = Family::V6;
  a.bytes = b;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const auto raw = parse_raw(text);
  if (!raw) return std::nullopt;
  if (raw->family == Family::V6) return v6(raw->bytes);
  return v4({raw->bytes[0], raw->bytes[1], raw->bytes[2], raw->bytes[3]});
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::V4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& error) {
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  auto raw = parse_raw(address_text);
  if (!raw) {
    error = "\"" + std::string(address_text) + "\" is not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  const unsigned total = bits_of(raw->family);
  unsigned prefix = total;
  if (slash != std::string_view::npos) {
    const auto parsed = parse_prefix(text.substr(slash + 1), total);
    if (!parsed) {
      error = "\"" + std::string(text.substr(slash + 1)) + "\" is not a prefix length from 0 to " +
              std::to_string(total) + (raw->family == IpAddress::Family::V4 ? " (IPv4)" : " (IPv6)");
      return std::nullopt;
    }
    prefix = *parsed;
  }
  Cidr out;
  if (clear_host_bits(raw->bytes, prefix, total)) {
    Cidr network;
    network.network_ = raw->family == IpAddress::Family::V4
                           ? IpAddress::v4({raw->bytes[0], raw->bytes[1], raw->bytes[2], raw->bytes[3]})
                           : IpAddress{IpAddress::Family::V6, raw->bytes};
    network.prefix_length_ = static_cast<uint8_t>(prefix);
    error = std::string(text) + " has host bits set (the network is " + network.to_string() +
            "; for one address use /" + std::to_string(total) + ")";
    return std::nullopt;
  }
  // An IPv6 network inside ::ffff:0:0/96 is an IPv4 network written in IPv6 notation.
  if (raw->family == IpAddress::Family::V6 && prefix >= 96 && is_mapped_v4(raw->bytes)) {
    out.network_ = IpAddress::v6(raw->bytes);
    out.prefix_length_ = static_cast<uint8_t>(prefix - 96);
    return out;
  }
  out.network_.family = raw->family;
  out.network_.bytes = raw->bytes;
  out.prefix_length_ = static_cast<uint8_t>(prefix);
  return out;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.family != network_.family) return false;
  const unsigned whole = prefix_length_ / 8;
  if (std::memcmp(address.bytes.data(), network_.bytes.data(), whole) != 0) return false;
  const unsigned rest = prefix_length_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == network_.bytes[whole];
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_length_);
}

bool any_contains(std::span<const Cidr> networks, const IpAddress& address) {
  for (const Cidr& n : networks)
    if (n.contains(address)) return true;
  return false;
}

}  // namespace tollway::core
