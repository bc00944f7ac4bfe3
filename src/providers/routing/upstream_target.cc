#include "providers/routing/upstream_target.h"

#include "providers/gemini/gemini_call.h"

namespace tollway::providers {
namespace {

// The caller's query without its own api-version parameters, then the configured one.
void append_query(std::string_view caller_query, const std::string& api_version, std::string& out) {
  bool first = true;
  while (!caller_query.empty()) {
    const auto amp = caller_query.find('&');
    const std::string_view param = caller_query.substr(0, amp);
    if (!param.empty() && param != "api-version" && !param.starts_with("api-version=")) {
      out.push_back(first ? '?' : '&');
      out.append(param);
      first = false;
    }
    if (amp == std::string_view::npos) break;
    caller_query.remove_prefix(amp + 1);
  }
  if (!api_version.empty()) out.append(first ? "?api-version=" : "&api-version=").append(api_version);
}

void azure_target(const config::AzureConfig& azure, const config::EndpointConfig& endpoint, pipeline::RequestCtx& ctx) {
  const std::string_view target = ctx.head->target;
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path.starts_with("/v1/")) path.remove_prefix(3);  // the OpenAI API's version prefix; Azure has its own
  // An Anthropic Messages request is translated into a chat completion (providers::TranslationFilter).
  if (ctx.api == config::Api::Anthropic) path = "/chat/completions";
  std::string& out = ctx.upstream.target;
  out.assign(endpoint.path_prefix);
  if (azure.url_form == config::AzureConfig::UrlForm::V1) {
    out.append("/openai/v1").append(path);
    ctx.upstream.body_model = azure.deployment_for(ctx.model);  // the body names the deployment
  } else if (!ctx.model.empty()) {
    out.append("/openai/deployments/").append(azure.deployment_for(ctx.model)).append(path);
  } else {
    out.append("/openai").append(path);  // no model (e.g. GET /v1/models): the resource's own endpoint
  }
  append_query(query, azure.api_version, out);
}

}  // namespace

void shape_upstream_target(const config::ProviderConfig& provider, const config::EndpointConfig& endpoint,
                           pipeline::RequestCtx& ctx) {
  std::string& target = ctx.upstream.target;
  ctx.upstream.body_model = ctx.model;
  if (provider.azure) {
    azure_target(*provider.azure, endpoint, ctx);
  } else if (provider.api == config::Api::Gemini && ctx.body_fields && ctx.body_fields->model_in_path &&
             ctx.model != *ctx.body_fields->model) {
    target.assign(endpoint.path_prefix).append(gemini::rewrite_target(ctx.head->target, ctx.model, false));
  } else {
    target.reserve(endpoint.path_prefix.size() + ctx.head->target.size());  // one allocation at most
    target.assign(endpoint.path_prefix).append(ctx.head->target);
  }
}

}  // namespace tollway::providers
