#include "sidecar/gateway_route.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "../filter_phase.h"
#include "http/parser.h"
#include "sidecar/filters.h"

namespace tollway::sidecar {
namespace {

using pipeline::Verdict;
using testing::run_phase;

struct Call {
  std::string bytes;
  http::RequestHead head;
  pipeline::RequestCtx ctx;
  Call(const std::string& request_line, const std::string& host, std::size_t listener, std::string body = {})
      : bytes(request_line + "\r\nHost: " + host + "\r\nAuthorization: Bearer sk-dummy\r\nx-api-key: k\r\n\r\n") {
    http::ParseError error;
    http::ParseLimits limits;
    limits.proxy_forms = true;
    EXPECT_EQ(http::parse_request_head(bytes, limits, head, error), http::ParseStatus::Complete);
    ctx.head = &head;
    ctx.listener = listener;
    ctx.body = std::move(body);
  }
};

bool dropped(const pipeline::RequestCtx& ctx, std::string_view name) {
  const auto& d = ctx.upstream.drop_headers;
  return std::find(d.begin(), d.end(), name) != d.end();
}

TEST(GatewayRoute, AnOriginFormCallGoesToTheGatewayWithoutTheAgentsCredentials) {
  const http::UpstreamEndpoint endpoint =
      gateway_endpoint({{"127.0.0.1", 8443}, "spiffe://example.org/gw"}, nullptr, "v1");
  EXPECT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.peer_spiffe_id, "spiffe://example.org/gw");
  GatewayRoute route(endpoint, "127.0.0.1:8443");
  Call call("POST /v1/chat/completions HTTP/1.1", "127.0.0.1:15001", kOutboundListener,
            R"({"model":"gpt-4o","stream":true,"max_tokens":7,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(GatewayRoute::is_llm_call(call.ctx));
  EXPECT_EQ(run_phase(route.authorize(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.model, "gpt-4o");
  EXPECT_TRUE(call.ctx.request.stream);
  EXPECT_EQ(call.ctx.request.max_output_tokens, 7u);
  EXPECT_EQ(run_phase(route.select_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.endpoint, &endpoint);
  EXPECT_EQ(call.ctx.upstream.provider, "gateway");
  EXPECT_EQ(run_phase(route.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.upstream.target, "/v1/chat/completions");
  EXPECT_EQ(call.ctx.upstream.host_header, "127.0.0.1:8443");
  EXPECT_TRUE(dropped(call.ctx, "authorization"));
  EXPECT_TRUE(dropped(call.ctx, "x-api-key"));
  EXPECT_TRUE(dropped(call.ctx, std::string(kCallerHeader)));
  // The stream's usage is asked for, to be read (and removed) on the way back.
  EXPECT_TRUE(call.ctx.request.include_usage_added);
  EXPECT_NE(call.ctx.body.find("\"include_usage\":true"), std::string::npos) << call.ctx.body;
}

TEST(GatewayRoute, PeerCallsAndInboundCallsAreNotItsOwn) {
  const http::UpstreamEndpoint endpoint =
      gateway_endpoint({{"127.0.0.1", 8443}, "spiffe://example.org/gw"}, nullptr, "v1");
  GatewayRoute route(endpoint, "127.0.0.1:8443");
  Call peer("POST http://agent-c/v1/chat/completions HTTP/1.1", "agent-c", kOutboundListener);
  EXPECT_FALSE(GatewayRoute::is_llm_call(peer.ctx));
  EXPECT_EQ(run_phase(route.select_upstream(peer.ctx)), Verdict::Continue);
  EXPECT_EQ(peer.ctx.upstream.endpoint, nullptr);
  Call inbound("POST /v1/chat/completions HTTP/1.1", "b", kInboundListener);
  EXPECT_FALSE(GatewayRoute::is_llm_call(inbound.ctx));
  Call connect("CONNECT api.openai.com:443 HTTP/1.1", "api.openai.com:443", kOutboundListener);
  EXPECT_FALSE(GatewayRoute::is_llm_call(connect.ctx));
}

TEST(GatewayRoute, TheApiFollowsThePath) {
  EXPECT_EQ(gateway_call_api("/v1/messages"), config::Api::Anthropic);
  EXPECT_EQ(gateway_call_api("/v1/messages/count_tokens"), config::Api::Anthropic);
  EXPECT_EQ(gateway_call_api("/v1/chat/completions"), config::Api::OpenAI);
  EXPECT_EQ(gateway_call_api("/v1/responses"), config::Api::OpenAI);
}

}  // namespace
}  // namespace tollway::sidecar
