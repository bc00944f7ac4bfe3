// Fan-out budget tokens: the signed grant "root request R may spend B units until T", carried by every call
// of an agent tree in the W3C baggage member `tollway-fanout` (docs/operations.md, Fan-out budgets). The
// value is v1.<root>.<unit>.<budget>.<expires_s>.<base64url HMAC-SHA256 over everything before it>, keyed
// with limits.fanout.secret, so an agent can carry it but never raise the budget, change the unit or extend
// it. Pure: no I/O, no pipeline types; verification is constant-time in the MAC and never trusts unsigned
// fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/limits_config.h"

namespace tollway::limits {

inline constexpr std::string_view kFanoutBaggageKey = "tollway-fanout";

struct FanoutGrant {
  std::string root;  // 32 lowercase hex digits, minted by the gateway
  config::LimitUnit unit = config::LimitUnit::TotalTokens;
  int64_t budget = 0;     // units (micro-USD for cost_usd)
  int64_t expires_s = 0;  // Unix seconds
};

class FanoutSigner {
 public:
  explicit FanoutSigner(std::string secret) : secret_(std::move(secret)) {}
  // A fresh root id (random, 128 bits).
  static std::string new_root();
  std::string mint(const FanoutGrant& grant) const;
  // The grant when the token is well-formed, correctly signed and not expired; otherwise nullopt and `why`.
  std::optional<FanoutGrant> verify(std::string_view token, int64_t now_s, std::string& why) const;

 private:
  std::string mac(std::string_view payload) const;  // base64url, no padding
  std::string secret_;
};

}  // namespace tollway::limits
