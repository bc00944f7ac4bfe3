#include "providers/pricing/price_table.h"

#include "core/glob.h"

namespace tollway::providers {

const config::ModelPrice* PriceTable::entry_for(std::string_view model) const {
  for (const auto& entry : pricing_.models)
    if (glob_match(entry.pattern, model)) return &entry;
  return nullptr;
}

const config::Price& PriceTable::price_for(std::string_view model, bool& is_default) const {
  const config::ModelPrice* entry = entry_for(model);
  is_default = entry == nullptr;
  return entry ? entry->price : pricing_.default_price;
}

std::string PriceTable::source() const {
  return pricing_.file.empty() ? std::string("the gateway config's pricing.models") : pricing_.file;
}

PricedCall PriceTable::cost(std::string_view model, const TokenCounts& c) const {
  PricedCall out;
  const config::Price& p = price_for(model, out.default_price);
  const uint64_t special = c.cached_input_tokens + c.cache_creation_input_tokens;
  const uint64_t plain_input = c.input_tokens > special ? c.input_tokens - special : 0;
  // micro-dollars per 1M tokens x tokens: 128-bit so no realistic count can overflow.
  const __int128 scaled = static_cast<__int128>(plain_input) * p.input +
                          static_cast<__int128>(c.cached_input_tokens) * p.cached_input +
                          static_cast<__int128>(c.cache_creation_input_tokens) * p.cache_write +
                          static_cast<__int128>(c.output_tokens) * p.output;
  out.cost_micro_usd = static_cast<int64_t>((scaled + 500'000) / 1'000'000);
  return out;
}

}  // namespace tollway::providers
