#include "limits/fanout_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace tollway::limits {
namespace {

const char* unit_token(config::LimitUnit u) {
  switch (u) {
    case config::LimitUnit::Requests:
      return "req";
    case config::LimitUnit::InputTokens:
      return "in";
    case config::LimitUnit::OutputTokens:
      return "out";
    case config::LimitUnit::TotalTokens:
      return "tok";
    case config::LimitUnit::CostUsd:
      return "usd";
  }
  return "?";
}

std::optional<config::LimitUnit> parse_unit_token(std::string_view s) {
  if (s == "in") return config::LimitUnit::InputTokens;
  if (s == "out") return config::LimitUnit::OutputTokens;
  if (s == "tok") return config::LimitUnit::TotalTokens;
  if (s == "usd") return config::LimitUnit::CostUsd;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n < 0 || (s.size() > 1 && s[0] == '0'))
    return std::nullopt;
  return n;
}

bool is_root(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string FanoutSigner::new_root() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string FanoutSigner::mac(std::string_view payload) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &len);
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned int i = 0; i < len; ++i) {
    acc = (acc << 8) | digest[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string FanoutSigner::mint(const FanoutGrant& g) const {
  std::string payload = "v1." + g.root + "." + unit_token(g.unit) + "." + std::to_string(g.budget) + "." +
                        std::to_string(g.expires_s);
  return payload + "." + mac(payload);
}

std::optional<FanoutGrant> FanoutSigner::verify(std::string_view token, int64_t now_s,
                                                std::string& why) const {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 7) {
    const auto dot = token.find('.', start);
    parts.push_back(
        token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 6 || parts[0] != "v1") {
    why = "malformed fan-out token";
    return std::nullopt;
  }
  const std::string_view payload = token.substr(0, token.size() - parts[5].size() - 1);
  const std::string expected = mac(payload);
  if (expected.size() != parts[5].size() ||
      CRYPTO_memcmp(expected.data(), parts[5].data(), expected.size()) != 0) {
    why = "fan-out token signature does not verify";
    return std::nullopt;
  }
  FanoutGrant g;
  auto unit = parse_unit_token(parts[2]);
  auto budget = parse_int(parts[3]);
  auto expires = parse_int(parts[4]);
  if (!is_root(parts[1]) || !unit || !budget || !expires) {
    why = "malformed fan-out token";
    return std::nullopt;
  }
  if (*expires <= now_s) {
    why = "fan-out budget expired";
    return std::nullopt;
  }
  g.root = std::string(parts[1]);
  g.unit = *unit;
  g.budget = *budget;
  g.expires_s = *expires;
  return g;
}

}  // namespace tollway::limits
