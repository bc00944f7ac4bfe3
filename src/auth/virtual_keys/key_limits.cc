#include "auth/virtual_keys/key_limits.h"

#include <charconv>
#include <cmath>

namespace tollway::auth {
namespace {

constexpr double kMaxBudgetUsd = 1e9;
constexpr int64_t kMaxPerMinute = 1'000'000'000'000;

// "<n>s", "<n>m", "<n>h", "<n>d" (fixed lengths) or "<n>mo" (calendar months), n from 1 to 10000.
bool parse_budget_duration(std::string_view text, KeyLimits& out) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (digits == 0 || ec != std::errc() || n < 1 || n > 10000 || text[0] == '0') return false;
  const std::string_view unit = text.substr(digits);
  if (unit == "mo") {
    out.budget_every_months = static_cast<int>(n);
    return true;
  }
  int64_t seconds = 0;
  if (unit == "s") seconds = 1;
  else if (unit == "m") seconds = 60;
  else if (unit == "h") seconds = 3600;
  else if (unit == "d") seconds = 86400;
  else return false;
  out.budget_every_s = n * seconds;
  return true;
}

bool read_per_minute(const core::strict_json::Value& v, std::string_view name, int64_t& out,
                     std::string& error) {
  if (v.is_null()) return true;
  if (!v.is_integer() || v.as_int() < 1 || v.as_int() > kMaxPerMinute) {
    error = "\"limits." + std::string(name) + "\" must be a whole number from 1 to 10^12 (or null for none)";
    return false;
  }
  out = v.as_int();
  return true;
}

}  // namespace

bool parse_key_limits(const core::strict_json::Value& limits, KeyLimits& out, std::string& error) {
  out = KeyLimits{};
  if (!limits.is_object()) {
    error = "\"limits\" must be a JSON object {max_budget, budget_duration, tpm, rpm}";
    return false;
  }
  bool has_duration = false;
  for (const auto& [name, value] : limits.members()) {
    if (name == "max_budget") {
      if (value.is_null()) continue;
      const double usd = value.is_number() ? value.as_number() : -1;
      const double micro = std::round(usd * 1e6);
      if (usd <= 0 || usd > kMaxBudgetUsd || std::fabs(usd * 1e6 - micro) > 1e-3) {
        error = "\"limits.max_budget\" must be a positive number of USD with at most 6 decimals (or null for none)";
        return false;
      }
      out.max_budget_micro_usd = static_cast<int64_t>(micro);
    } else if (name == "budget_duration") {
      if (value.is_null()) continue;
      if (!value.is_string() || !parse_budget_duration(value.as_string(), out)) {
        error = "\"limits.budget_duration\" must be a duration such as \"30s\", \"10m\", \"1h\", \"30d\" or \"1mo\" "
                "(or null for the key's lifetime)";
        return false;
      }
      has_duration = true;
    } else if (name == "tpm") {
      if (!read_per_minute(value, name, out.tpm, error)) return false;
    } else if (name == "rpm") {
      if (!read_per_minute(value, name, out.rpm, error)) return false;
    } else {
      error = "Unknown field \"limits." + name + "\" (max_budget, budget_duration, tpm, rpm)";
      return false;
    }
  }
  if (has_duration && out.max_budget_micro_usd == 0) {
    error = "\"limits.budget_duration\" needs \"limits.max_budget\"";
    return false;
  }
  return true;
}

KeyLimits key_limits_from_text(std::string_view text) {
  KeyLimits out;
  std::string error;
  auto value = core::strict_json::parse(text, error);
  if (!value || !parse_key_limits(*value, out, error)) return KeyLimits{};
  return out;
}

bool same_budget_periods(const KeyLimits& a, const KeyLimits& b) {
  return a.budget_every_s == b.budget_every_s && a.budget_every_months == b.budget_every_months;
}

}  // namespace tollway::auth
