// Reservation: what the admit phase reserved in the ledger for one request (limits::LimitsFilter, the sidecar's
// LimitFilter); a pipeline::FeatureStates entry. Settled or released exactly once, by the same filter's settle
// phase, which closes it; nothing else may change it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/limits_config.h"
#include "limits/ledger.h"

namespace tollway::limits {

struct Reservation {
  bool open = false;
  std::vector<Counter> counters;
  std::vector<int64_t> amounts;  // reserved on counters[i]
  std::vector<std::string> generations;  // the ledger's generation of counters[i] when reserved (strict ledger)
  std::vector<uint32_t> rules;   // the policy rule of counters[i] (index into the filter's rules)
  std::string session;           // the request's session id ("" when none)
  // The model the counters were planned for (the requested one; an alias's first model). Settle charges these
  // counters and the spend record names this model, whatever model a fallback served.
  std::string model;
  bool usd_uncharged = false;    // pricing.unpriced: allow admitted a model without a price: USD counters get 0
  std::string fanout_root;       // the fan-out tree charged ("" when none)
  config::LimitUnit fanout_unit = config::LimitUnit::TotalTokens;
};

}  // namespace tollway::limits
