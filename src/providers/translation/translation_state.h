// Translation: the per-request state of providers::TranslationFilter (a pipeline::FeatureStates entry). Present
// and active once shape_upstream rewrote the body and target into the provider's API, so that the response is
// rewritten back; reset by the filter at the start of each attempt's shape_upstream. Filters that read it in
// shape_upstream (providers::UsageFilter) come after TranslationFilter in the chain; never read it earlier.
#pragma once

#include "pipeline/request_ctx.h"

namespace tollway::providers {

struct Translation {
  bool active = false;
  bool include_usage = false;  // an OpenAI caller asked for stream_options.include_usage
};

// True when this attempt's request was translated into the provider's API.
inline bool translating(const pipeline::RequestCtx& ctx) {
  const Translation* t = ctx.features.find<Translation>();
  return t != nullptr && t->active;
}

}  // namespace tollway::providers
