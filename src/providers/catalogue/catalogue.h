// ModelCatalogue: the gateway's own answer to GET /v1/models and /v1/models/{id}, built from its configuration
// (model rules that name one model, aliases, fallback models; each with the provider behind it), filtered to the
// models the caller's key or JWT policy may use, in OpenAI's list format or Anthropic's when the caller speaks
// Anthropic's API (an `anthropic-version` or `x-api-key` header). It never contacts a provider and never lists a
// model the caller's policy does not allow.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "pipeline/request_ctx.h"

namespace tollway::providers {

struct CatalogueEntry {
  std::string id;
  std::string provider;  // the provider that serves it (an alias: its first model's)
};

class ModelCatalogue {
 public:
  explicit ModelCatalogue(const config::GatewayConfig& config);
  // Fills ctx.reply for GET /v1/models or /v1/models/{id} (404 model_not_found for an unknown or hidden id).
  void answer(pipeline::RequestCtx& ctx) const;
  const std::vector<CatalogueEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogueEntry> entries_;  // config order, each id once
};

// True for the paths the catalogue answers (with GET): /v1/models and /v1/models/{id}.
bool is_catalogue_path(std::string_view path);

}  // namespace tollway::providers
