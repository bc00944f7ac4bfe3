#include "sidecar/gateway_route.h"

#include "providers/request_fields.h"
#include "sidecar/filters.h"
#include "sidecar/limit_config.h"

namespace tollway::sidecar {
namespace {

// The credentials an SDK sends; the gateway is to know the agent by its certificate, not by these.
constexpr std::string_view kCredentialHeaders[] = {"authorization", "x-api-key", "api-key", "x-goog-api-key"};

}  // namespace

config::Api gateway_call_api(std::string_view path) {
  return path.ends_with("/messages") || path.ends_with("/messages/count_tokens") ? config::Api::Anthropic
                                                                                 : config::Api::OpenAI;
}

http::UpstreamEndpoint gateway_endpoint(const GatewayTarget& gateway, std::shared_ptr<asio::ssl::context> client,
                                        const std::string& version) {
  http::UpstreamEndpoint e;
  e.host = gateway.address.host == "localhost" ? "127.0.0.1" : gateway.address.host;
  e.port = gateway.address.port;
  e.tls = true;
  e.tls_context = std::move(client);
  e.peer_spiffe_id = gateway.spiffe_id;
  e.pool_key = "mtls://" + e.host + ":" + std::to_string(e.port) + "#" + gateway.spiffe_id + "#" + version;
  return e;
}

GatewayRoute::GatewayRoute(const http::UpstreamEndpoint& endpoint, std::string host_header)
    : endpoint_(endpoint), host_header_(std::move(host_header)), usage_({{}, true}) {}

bool GatewayRoute::is_llm_call(const pipeline::RequestCtx& ctx) {
  return ctx.listener == kOutboundListener && ctx.head->method != "CONNECT" && ctx.head->authority.empty();
}

asio::awaitable<pipeline::Verdict> GatewayRoute::authorize(pipeline::RequestCtx& ctx) {
  // The body's fields, for the token estimate and the usage reader; a body that is not JSON goes on unread
  // (the gateway answers it).
  if (!is_llm_call(ctx) || ctx.body.empty()) co_return pipeline::Verdict::Continue;
  std::string error;
  ctx.body_fields = providers::read_request_fields(ctx.body, error);
  if (const auto& fields = ctx.body_fields) {
    if (fields->model) ctx.model = *fields->model;
    ctx.request.stream = fields->stream;
    ctx.request.max_output_tokens = fields->max_output_tokens;
  }
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> GatewayRoute::select_upstream(pipeline::RequestCtx& ctx) {
  if (!is_llm_call(ctx)) co_return pipeline::Verdict::Continue;
  ctx.upstream.endpoint = &endpoint_;
  ctx.upstream.provider = std::string(kGatewayDestination);
  ctx.upstream.api = gateway_call_api(ctx.head->path());
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> GatewayRoute::shape_upstream(pipeline::RequestCtx& ctx) {
  if (ctx.upstream.endpoint != &endpoint_) co_return pipeline::Verdict::Continue;
  ctx.upstream.target = std::string(ctx.head->target);
  ctx.upstream.host_header = host_header_;
  ctx.upstream.drop_headers.push_back(std::string(kCallerHeader));
  for (std::string_view header : kCredentialHeaders) ctx.upstream.drop_headers.push_back(std::string(header));
  co_return co_await usage_.shape_upstream(ctx);
}

std::unique_ptr<pipeline::ResponseBodyTransformer> GatewayRoute::response_body(pipeline::RequestCtx& ctx,
                                                                              const http::ResponseHead& head) {
  if (ctx.upstream.endpoint != &endpoint_) return nullptr;
  return usage_.response_body(ctx, head);
}

void GatewayRoute::log(const pipeline::RequestCtx& ctx) {
  if (ctx.upstream.endpoint == &endpoint_) usage_.log(ctx);
}

}  // namespace tollway::sidecar
