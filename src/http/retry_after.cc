#include "http/retry_after.h"

#include <algorithm>
#include <array>

namespace tollway::http {
namespace {

bool parse_digits(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

int month_index(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (kMonths[i] == name) return static_cast<int>(i) + 1;
  return 0;
}

bool is_day_name(std::string_view name, bool long_form) {
  static constexpr std::array<std::string_view, 7> kShort = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> kLong = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};
  const auto& names = long_form ? kLong : kShort;
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Days since 1970-01-01 of a proleptic Gregorian date (era-based civil calendar arithmetic).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::optional<int64_t> to_unix(int year, int month, int day, std::string_view hms) {
  // hms = "HH:MM:SS"
  if (hms.size() != 8 || hms[2] != ':' || hms[5] != ':') return std::nullopt;
  int h, mi, s;
  if (!parse_digits(hms.substr(0, 2), h) || !parse_digits(hms.substr(3, 2), mi) ||
      !parse_digits(hms.substr(6, 2), s))
    return std::nullopt;
  if (month < 1 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int days_in_month = kDays[static_cast<std::size_t>(month - 1)] + (month == 2 && leap(year) ? 1 : 0);
  if (day < 1 || day > days_in_month) return std::nullopt;
  return days_from_civil(year, month, day) * 86400 + h * 3600 + mi * 60 + std::min(s, 59);
}

}  // namespace

std::optional<int64_t> parse_http_date(std::string_view v) {
  int day, year;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (v.size() == 29 && v[3] == ',' && v[4] == ' ' && v[7] == ' ' && v[11] == ' ' && v[16] == ' ' &&
      v.substr(25) == " GMT") {
    if (!is_day_name(v.substr(0, 3), false) || !parse_digits(v.substr(5, 2), day) ||
        !parse_digits(v.substr(12, 4), year))
      return std::nullopt;
    return to_unix(year, month_index(v.substr(8, 3)), day, v.substr(17, 8));
  }
  // asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space)
  if (v.size() == 24 && v[3] == ' ' && v[7] == ' ' && v[10] == ' ' && v[19] == ' ') {
    std::string_view d = v.substr(8, 2);
    if (d[0] == ' ') d.remove_prefix(1);
    if (!is_day_name(v.substr(0, 3), false) || !parse_digits(d, day) || !parse_digits(v.substr(20, 4), year))
      return std::nullopt;
    return to_unix(year, month_index(v.substr(4, 3)), day, v.substr(11, 8));
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  const std::size_t comma = v.find(", ");
  if (comma != std::string_view::npos && v.size() == comma + 24 && is_day_name(v.substr(0, comma), true)) {
    const std::string_view rest = v.substr(comma + 2);  // "06-Nov-94 08:49:37 GMT"
    if (rest[2] != '-' || rest[6] != '-' || rest[9] != ' ' || rest.substr(18) != " GMT") return std::nullopt;
    int yy;
    if (!parse_digits(rest.substr(0, 2), day) || !parse_digits(rest.substr(7, 2), yy)) return std::nullopt;
    year = yy < 70 ? 2000 + yy : 1900 + yy;  // two-digit years: 70..99 -> 19xx, else 20xx
    return to_unix(year, month_index(rest.substr(3, 3)), day, rest.substr(10, 8));
  }
  return std::nullopt;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, int64_t now_unix_seconds) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds = 1*DIGIT; saturate absurd values instead of overflowing.
    int64_t seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > 1'000'000'000) return std::chrono::seconds(1'000'000'000);
    }
    return std::chrono::seconds(seconds);
  }
  const auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  return std::chrono::seconds(std::max<int64_t>(0, *date - now_unix_seconds));
}

std::optional<std::chrono::milliseconds> parse_retry_after_ms(std::string_view value) {
  if (value.empty() || value.size() > 9) return std::nullopt;
  int64_t ms = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace tollway::http
