// The x-tollway-hops header a caller's sidecar sends: how many sidecar hops this call's chain has made. Parsing
// only; it never trusts a value it cannot read whole (a repeated, empty, signed or out-of-range value is
// malformed, not a guess).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tollway::sidecar {

inline constexpr uint32_t kMaxHopCount = 65535;

// The hop count the header's lines carry: 1 when there is none (a caller that does not count hops makes this
// the first); nullopt when there is more than one line or the one value is not a whole number 1..kMaxHopCount.
std::optional<uint32_t> parse_hop_count(std::span<const std::string_view> values);

}  // namespace tollway::sidecar
