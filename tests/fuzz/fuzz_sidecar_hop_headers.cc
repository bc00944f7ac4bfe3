// libFuzzer target for the headers a sidecar reads from a peer on every hop: x-tollway-hops and the
// tollway-fanout baggage member (a signed fan-out grant). Input: lines separated by '\n'; a line starting with
// 'h' is an x-tollway-hops value, 'b' a baggage line, 'g' the fields of a grant to mint (the rest of the line
// is used as bytes). Invariants: a parsed hop count is one value within 1..65535 whose decimal form parses to
// itself; a grant verifies only when it re-mints to the very token it came from (no second spelling of a
// signature or field), never once expired, and never after any one byte of it changes; every grant minted from
// the fuzzer's fields (units the config allows) verifies back to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "limits/fanout_token.h"
#include "sidecar/hop_header.h"
#include "telemetry/baggage.h"

namespace {

using tollway::config::LimitUnit;
using tollway::limits::FanoutGrant;
using tollway::limits::FanoutSigner;

constexpr int64_t kNow = 1'800'000'000;
const FanoutSigner& signer() {
  static const FanoutSigner s(std::string(32, 'k'));
  return s;
}

void check_hops(const std::vector<std::string_view>& values) {
  const auto hops = tollway::sidecar::parse_hop_count(values);
  if (!hops) {
    FUZZ_CHECK(!values.empty());
    return;
  }
  FUZZ_CHECK(*hops >= 1 && *hops <= tollway::sidecar::kMaxHopCount);
  FUZZ_CHECK(values.size() <= 1);
  const std::string canonical = std::to_string(*hops);
  const std::vector<std::string_view> again{canonical};
  FUZZ_CHECK(tollway::sidecar::parse_hop_count(again) == hops);
}

void check_token(std::string_view token) {
  std::string why;
  const auto grant = signer().verify(token, kNow, why);
  if (!grant) {
    FUZZ_CHECK(!why.empty());
    return;
  }
  FUZZ_CHECK(grant->expires_s > kNow && grant->budget >= 0 && grant->root.size() == 32);
  FUZZ_CHECK(signer().mint(*grant) == token);
  FUZZ_CHECK(!signer().verify(token, grant->expires_s, why));
  std::string changed(token);
  for (std::size_t i = 0; i < changed.size(); ++i) {
    const char original = changed[i];
    changed[i] = static_cast<char>(original ^ 0x01);
    FUZZ_CHECK(!signer().verify(changed, kNow, why));
    changed[i] = original;
  }
}

void check_minted(std::string_view fields) {
  if (fields.size() < 17) return;
  static const char* hex = "0123456789abcdef";
  FanoutGrant grant;
  for (std::size_t i = 0; i < 16; ++i) {
    grant.root += hex[static_cast<unsigned char>(fields[i]) >> 4];
    grant.root += hex[static_cast<unsigned char>(fields[i]) & 15];
  }
  const LimitUnit units[] = {LimitUnit::InputTokens, LimitUnit::OutputTokens, LimitUnit::TotalTokens,
                             LimitUnit::CostUsd};
  grant.unit = units[static_cast<unsigned char>(fields[16]) % 4];
  uint64_t number = 0;
  for (char c : fields.substr(17)) number = number * 131 + static_cast<unsigned char>(c);
  grant.budget = static_cast<int64_t>(number >> 1);
  grant.expires_s = kNow + 1 + static_cast<int64_t>(number % 100'000);
  std::string why;
  const auto back = signer().verify(signer().mint(grant), kNow, why);
  FUZZ_CHECK(back);
  FUZZ_CHECK(back->root == grant.root && back->unit == grant.unit && back->budget == grant.budget &&
             back->expires_s == grant.expires_s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> hop_values, baggage_lines;
  std::size_t start = 0;
  while (start <= input.size()) {
    const auto end = std::min(input.find('\n', start), input.size());
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const std::string_view rest = line.substr(1);
    if (line[0] == 'h') hop_values.push_back(rest);
    if (line[0] == 'b') baggage_lines.push_back(rest);
    if (line[0] == 'g') check_minted(rest);
  }
  check_hops(hop_values);
  for (const auto& entry : tollway::telemetry::parse_baggage(baggage_lines).entries)
    if (entry.key == tollway::limits::kFanoutBaggageKey) check_token(entry.value);
  return 0;
}
