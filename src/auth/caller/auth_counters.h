// AuthCounters: how many requests each authentication method accepted or rejected, by stable reason code, for
// /metrics. Each thread counts into its own cache-line-aligned block (no shared cache line, no lock on the
// request path); a scrape sums the blocks. Reason codes are fixed strings, never credential content.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::auth {

enum class AuthMethod { VirtualKey, Jwt, Spiffe, None };

class AuthCounters {
 public:
  static constexpr std::array<std::string_view, 32> kReasons = {
      "ok", "missing_credential", "ambiguous_credentials", "unknown_key", "key_revoked", "key_expired",
      "key_rotated", "unknown_issuer", "missing_tenant", "missing_subject", "missing_agent",
      "token_too_large", "token_malformed", "alg_none", "alg_unsupported", "alg_not_allowed",
      "forbidden_header", "unknown_crit", "unknown_kid", "alg_key_mismatch", "no_matching_key",
      "bad_signature", "token_expired", "token_not_yet_valid", "token_issued_in_future", "wrong_issuer",
      "wrong_audience", "missing_claim", "bad_claim", "jwks_unavailable", "spiffe_id_denied", "other"};

  void add(AuthMethod method, std::string_view reason);
  void render(std::string& out) const;

 private:
  struct alignas(64) Block {
    std::array<std::array<std::atomic<uint64_t>, kReasons.size()>, 4> counts{};
  };
  Block& local();
  mutable std::mutex blocks_mutex_;  // taken once per thread (first count) and by scrapes
  std::vector<std::unique_ptr<Block>> blocks_;
};

}  // namespace tollway::auth
