// The limits part of GET /admin/keys/{id}: what a virtual key spent (spend log, since its creation) and, for each
// budget that applies to every request of the key — its own max_budget and the configured budgets whose match and
// `per` depend only on tenant, agent group, agent and key — the limit, what is used in the current period
// (settled + reserved, read from the in-process ledger) and what remains. It only reads; it never charges,
// and with the strict ledger (counters in Redis) it reports used / remaining as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/caller_policy.h"
#include "config/limits_config.h"
#include "limits/admission/runtime.h"

namespace tollway::limits {

struct KeyIdentity {
  std::string_view id, tenant, agent_group, agent;
  int64_t created_at_s = 0;
};

// JSON fields without braces: `"spend":{…},"budgets":[…]` ("spend" only with a spend log).
std::string key_usage_json(LimitsRuntime& runtime, const config::LimitsPolicy& policy, const KeyIdentity& key,
                           const auth::KeyLimits& limits, int64_t now_ms);

}  // namespace tollway::limits
