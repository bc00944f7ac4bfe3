// Translation: the per-request state of providers::TranslationFilter (a pipeline::FeatureStates entry). Present
// and active once shape_upstream rewrote the body and target into the provider's API, so that the response is
// rewritten back; reset by the filter at each attempt. Never read before shape_upstream.
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
