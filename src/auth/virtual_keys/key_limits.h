// Key limits: the `limits` object of the virtual keys API — {max_budget (USD), budget_duration ("30s", "10m",
// "1h", "30d", "1mo"; null = the key's lifetime), tpm, rpm} — validated strictly (an unknown field or a bad value
// is an error naming `limits.<field>`) and turned into the typed KeyLimits the limits filter enforces. It never
// accepts a value it cannot enforce exactly (fractions of a micro-dollar, zero or negative limits).
#pragma once

#include <string>
#include <string_view>

#include "auth/caller_policy.h"
#include "core/strict_json.h"

namespace tollway::auth {

// Fills `out` (all fields but budget_anchor_s) from a `limits` JSON object; false with `error` naming the field.
bool parse_key_limits(const core::strict_json::Value& limits, KeyLimits& out, std::string& error);
// The same from stored JSON text (written by the API, so valid); "{}" or invalid text gives no limits.
KeyLimits key_limits_from_text(std::string_view text);
// True when two KeyLimits count their budget in the same periods (same duration; the anchor is not compared).
bool same_budget_periods(const KeyLimits& a, const KeyLimits& b);

}  // namespace tollway::auth
