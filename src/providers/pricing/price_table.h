// PriceTable: what a call cost, in integer micro-dollars, from its token counts and the model's price (the
// `pricing` config section: inline entries, then the price file, then the default price). Unknown models are
// priced at the default and reported as such so the caller can count a warning.
// Pure and immutable once built; it never rounds a component to zero silently (the total is rounded once,
// half up) and never uses floating point.
#pragma once

#include <cstdint>
#include <string_view>

#include "config/gateway_config.h"
#include "providers/usage/extract.h"

namespace tollway::providers {

struct PricedCall {
  int64_t cost_micro_usd = 0;
  bool default_price = false;  // the model matched no entry
};

class PriceTable {
 public:
  explicit PriceTable(const config::PricingConfig& pricing) : pricing_(pricing) {}
  // The price of `model` (first matching glob) or the default price.
  const config::Price& price_for(std::string_view model, bool& is_default) const;
  // The first entry matching `model`, or null when the model has no price.
  const config::ModelPrice* entry_for(std::string_view model) const;
  // Where prices come from, for messages: the price file, else the config's `pricing.models`.
  std::string source() const;
  // Prompt tokens not cached and not written to cache at `input`, cached at `cached_input`, cache creation at
  // `cache_write`, output (reasoning included) at `output`.
  PricedCall cost(std::string_view model, const TokenCounts& counts) const;

 private:
  const config::PricingConfig& pricing_;  // owned by the snapshot's config
};

}  // namespace tollway::providers
