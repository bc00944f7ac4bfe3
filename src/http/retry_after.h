// Retry-After and its millisecond cousin: when a server asks to be tried again, read as a duration. Pure
// parsing of one header value (RFC 9110 10.2.3 and 5.6.7); it never reads a clock (the caller passes the
// time), never decides whether to retry and never accepts a value it cannot read exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tollway::http {

// Retry-After: delay-seconds, or an HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime forms a
// recipient must accept). Returns the wait from `now_unix_seconds` (0 for a date in the past), or nullopt
// when the value is neither. Absurd delay-seconds saturate at 10^9 instead of overflowing.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, int64_t now_unix_seconds);

// Seconds since the Unix epoch for an HTTP-date, or nullopt.
std::optional<int64_t> parse_http_date(std::string_view value);

// `retry-after-ms` (sent by OpenAI): 1 to 9 digits of milliseconds, or nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after_ms(std::string_view value);

}  // namespace tollway::http
