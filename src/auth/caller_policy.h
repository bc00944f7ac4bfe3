// CallerPolicy: what one authenticated caller may do (allowed route and model globs, max_tokens cap) plus the
// limits and budget attached to its virtual key, typed for the limits filter. Built once per virtual key or JWT
// issuer and shared read-only by every request of that caller; it holds no secrets and never changes once
// published (a change of the key publishes a new one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tollway::auth {

// A virtual key's own limits (`limits` of the keys API), enforced by the limits filter like configured ones.
struct KeyLimits {
  int64_t max_budget_micro_usd = 0;  // 0 = no budget
  // Budget periods: `budget_every_s` seconds or `budget_every_months` calendar months, counted from
  // `budget_anchor_s` (both 0 = one period for the key's lifetime, from the anchor).
  int64_t budget_every_s = 0;
  int budget_every_months = 0;
  int64_t budget_anchor_s = 0;
  int64_t tpm = 0;  // total tokens per minute; 0 = none
  int64_t rpm = 0;  // requests per minute; 0 = none
  bool any() const { return max_budget_micro_usd > 0 || tpm > 0 || rpm > 0; }
};

struct CallerPolicy {
  std::vector<std::string> routes;  // globs on the request path; empty = any
  std::vector<std::string> models;  // globs on the body's "model"; empty = any
  uint64_t max_tokens = 0;          // cap on max_tokens / max_completion_tokens / max_output_tokens; 0 = none
  std::string key_id;     // the virtual key these limits belong to ("" when none)
  KeyLimits key_limits;
};

}  // namespace tollway::auth
