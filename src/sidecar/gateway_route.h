// GatewayRoute: the agent's LLM calls. Its SDK's base URL is the sidecar's outbound listener
// (http://127.0.0.1:15001/v1), so an LLM call arrives in origin form (`POST /v1/chat/completions`); with
// `sidecar.gateway` set, it goes to the gateway over mTLS presenting this agent's SVID, the gateway's certificate
// checked to carry the configured SPIFFE ID. The agent's own credential headers are dropped: the gateway knows the
// caller by its SPIFFE ID (its `auth.spiffe` callers), so no agent holds a key. The usage of each call is read from
// the gateway's response (providers::UsageFilter: JSON body or SSE events, relayed as they arrive) into ctx.usage
// for local token limits. It never sends an LLM call anywhere but the configured gateway.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/upstream_pool.h"
#include "pipeline/filter.h"
#include "providers/usage/filter.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// The API an LLM call's path speaks: Anthropic for `…/messages`, OpenAI otherwise.
config::Api gateway_call_api(std::string_view path);

// The gateway as an upstream: TLS with `client` (this agent's SVID and the trust bundle), its certificate checked to
// carry gateway.spiffe_id; connections pooled per snapshot version.
http::UpstreamEndpoint gateway_endpoint(const GatewayTarget& gateway, std::shared_ptr<asio::ssl::context> client,
                                        const std::string& version);

class GatewayRoute final : public pipeline::Filter {
 public:
  GatewayRoute(const http::UpstreamEndpoint& endpoint, std::string host_header);
  std::string_view name() const override { return "gateway_route"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> select_upstream(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                    const http::ResponseHead& head) override;
  void log(const pipeline::RequestCtx& ctx) override;

  // An origin-form request on the outbound listener: the agent's LLM call.
  static bool is_llm_call(const pipeline::RequestCtx& ctx);

 private:
  const http::UpstreamEndpoint& endpoint_;  // owned by the snapshot that owns this filter
  std::string host_header_;
  providers::UsageFilter usage_;
};

}  // namespace tollway::sidecar
