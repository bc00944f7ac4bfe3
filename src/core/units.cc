#include "core/units.h"

#include <charconv>

namespace tollway::units {
namespace {

// Splits "123unit" into the number and the unit; the number must be non-empty decimal digits.
bool split_number(std::string_view text, uint64_t& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i) return false;
  unit = text.substr(i);
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  uint64_t n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  uint64_t factor;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else return std::nullopt;
  if (n > UINT64_MAX / factor / 2) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(n * factor));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  uint64_t factor;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "KiB") factor = 1ull << 10;
  else if (unit == "MiB") factor = 1ull << 20;
  else if (unit == "GiB") factor = 1ull << 30;
  else if (unit == "KB") factor = 1000;
  else if (unit == "MB") factor = 1000'000;
  else if (unit == "GB") factor = 1000'000'000;
  else return std::nullopt;
  if (n > UINT64_MAX / factor) return std::nullopt;
  return n * factor;
}

}  // namespace tollway::units
