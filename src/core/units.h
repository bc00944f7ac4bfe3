// Parsing of the human units used in config files: durations ("250ms", "10s", "5m", "1h") and byte sizes
// ("512", "8KiB", "16MiB", "1GiB", "10KB"). Parsing only; never guesses a unit that was not written.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tollway::units {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace tollway::units
