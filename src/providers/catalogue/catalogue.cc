#include "providers/catalogue/catalogue.h"

#include <algorithm>

#include "core/glob.h"
#include "core/json.h"
#include "http/message.h"
#include "pipeline/filter.h"

namespace tollway::providers {
namespace {

constexpr std::string_view kListPath = "/v1/models";
constexpr std::string_view kItemPrefix = "/v1/models/";

bool literal_model(std::string_view pattern) { return pattern.find_first_of("*?[") == std::string_view::npos; }

bool allowed(const pipeline::Caller& caller, std::string_view model) {
  if (!caller.policy || caller.policy->models.empty()) return true;
  return std::any_of(caller.policy->models.begin(), caller.policy->models.end(),
                     [&](const std::string& glob) { return glob_match(glob, model); });
}

// Anthropic's SDK sends both; OpenAI's sends neither.
bool speaks_anthropic(const http::RequestHead& head) {
  return head.find("anthropic-version").has_value() || head.find("x-api-key").has_value();
}

std::string openai_model(const CatalogueEntry& e) {
  return std::move(json::ObjectWriter()
                       .field("id", e.id)
                       .field("object", "model")
                       .field("created", int64_t{0})
                       .field("owned_by", e.provider))
      .finish();
}

std::string anthropic_model(const CatalogueEntry& e) {
  return std::move(json::ObjectWriter()
                       .field("type", "model")
                       .field("id", e.id)
                       .field("display_name", e.id)
                       .field("created_at", "1970-01-01T00:00:00Z"))
      .finish();
}

}  // namespace

bool is_catalogue_path(std::string_view path) {
  return path == kListPath || (path.starts_with(kItemPrefix) && path.size() > kItemPrefix.size());
}

ModelCatalogue::ModelCatalogue(const config::GatewayConfig& config) {
  const auto add = [&](const std::string& id, std::size_t provider) {
    if (std::none_of(entries_.begin(), entries_.end(), [&](const CatalogueEntry& e) { return e.id == id; }))
      entries_.push_back({id, config.providers[provider].name});
  };
  for (const auto& rule : config.models)
    if (literal_model(rule.pattern)) add(rule.pattern, rule.provider);
  for (const auto& alias : config.model_aliases)
    if (auto provider = config::provider_of_model(config, alias.models.front())) add(alias.name, *provider);
  for (const auto& route : config.routes)
    for (const auto& fallback : route.fallback)
      if (!fallback.model.empty()) add(fallback.model, fallback.provider);
}

void ModelCatalogue::answer(pipeline::RequestCtx& ctx) const {
  const std::string_view path = ctx.head->path();
  const bool anthropic = speaks_anthropic(*ctx.head);
  ctx.api = anthropic ? config::Api::Anthropic : config::Api::OpenAI;  // errors in the caller's format
  std::vector<const CatalogueEntry*> visible;
  for (const auto& e : entries_)
    if (allowed(ctx.caller, e.id)) visible.push_back(&e);
  ctx.reply.status = 200;
  if (path.starts_with(kItemPrefix)) {
    const std::string_view id = path.substr(kItemPrefix.size());
    const auto it = std::find_if(visible.begin(), visible.end(), [&](const CatalogueEntry* e) { return e->id == id; });
    if (it == visible.end()) {
      pipeline::reply_error(ctx, 404, "The model \"" + std::string(id) + "\" does not exist or you do not have access to it.",
                  "model_not_found");
      return;
    }
    ctx.reply.body = (anthropic ? anthropic_model(**it) : openai_model(**it)) + "\n";
    return;
  }
  std::string data = "[";
  for (std::size_t i = 0; i < visible.size(); ++i) {
    if (i > 0) data += ",";
    data += anthropic ? anthropic_model(*visible[i]) : openai_model(*visible[i]);
  }
  data += "]";
  json::ObjectWriter body;
  if (anthropic) {
    body.raw_field("data", data).field("has_more", false);
    if (visible.empty()) body.null_field("first_id").null_field("last_id");
    else body.field("first_id", visible.front()->id).field("last_id", visible.back()->id);
  } else {
    body.field("object", "list").raw_field("data", data);
  }
  ctx.reply.body = std::move(body).finish() + "\n";
}

}  // namespace tollway::providers
