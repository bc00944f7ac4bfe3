#include "sidecar/hop_header.h"

#include <charconv>

namespace tollway::sidecar {

std::optional<uint32_t> parse_hop_count(std::span<const std::string_view> values) {
  if (values.size() > 1) return std::nullopt;
  if (values.empty()) return 1;
  const std::string_view text = values.front();
  uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0 || n > kMaxHopCount)
    return std::nullopt;
  return n;
}

}  // namespace tollway::sidecar
