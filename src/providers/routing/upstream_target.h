// The request target sent to the chosen provider endpoint (ctx.upstream.target): the caller's path and query
// under the endpoint's path prefix; for Azure OpenAI its deployment URL
// (/openai/deployments/{deployment}/... ?api-version=...) or its /openai/v1 URL (the body's model becoming the
// deployment name); for Gemini the path's model replaced by the attempt's model (an alias's or a fallback's).
// Decides nothing about which provider serves; never touches credentials.
#pragma once

#include "config/gateway_config.h"
#include "pipeline/request_ctx.h"

namespace tollway::providers {

// Writes ctx.upstream.target and ctx.upstream.body_model (the model the body must name: for Azure's v1 form
// the deployment); the body itself is edited by ProviderRouteFilter::shape_upstream.
void shape_upstream_target(const config::ProviderConfig& provider, const config::EndpointConfig& endpoint,
                           pipeline::RequestCtx& ctx);

}  // namespace tollway::providers
