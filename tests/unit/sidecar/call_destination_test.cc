#include "sidecar/call_destination.h"

#include <gtest/gtest.h>

#include "http/parser.h"
#include "sidecar/filters.h"
#include "sidecar/limit_config.h"

namespace tollway::sidecar {
namespace {

SidecarConfig config(bool with_gateway) {
  SidecarConfig c;
  c.spiffe_id = "spiffe://example.org/ns/prod/sa/agent-a";
  PeerConfig peer;
  peer.name = "agent-b";
  peer.spiffe_id = "spiffe://example.org/ns/prod/sa/agent-b";
  c.peers.push_back(peer);
  if (with_gateway) c.gateway = GatewayTarget{{}, "spiffe://example.org/ns/prod/sa/gateway"};
  c.mcp.endpoint.emplace();
  c.mcp.endpoint->path = "/mcp";
  return c;
}

// Where `request_line` (with a Host header) on `listener` is addressed; "" for none.
std::string destination(const SidecarConfig& c, std::size_t listener, const std::string& request_line,
                        const std::string& host) {
  const std::string bytes = request_line + "\r\nHost: " + host + "\r\n\r\n";
  http::RequestHead head;
  http::ParseError error;
  http::ParseLimits limits;
  limits.proxy_forms = listener == kOutboundListener;
  EXPECT_EQ(http::parse_request_head(bytes, limits, head, error), http::ParseStatus::Complete);
  pipeline::RequestCtx ctx;
  ctx.head = &head;
  ctx.listener = listener;
  return std::string(call_destination(c, ctx).name);
}

TEST(CallDestination, NamesWhereTheRequestIsAddressedWithoutRouting) {
  const SidecarConfig c = config(true);
  EXPECT_EQ(destination(c, kOutboundListener, "POST /v1/chat/completions HTTP/1.1", "127.0.0.1"), kGatewayDestination);
  EXPECT_EQ(destination(c, kOutboundListener, "GET http://agent-b/tasks HTTP/1.1", "agent-b"), "agent-b");
  EXPECT_EQ(destination(c, kOutboundListener, "GET http://agent-b:8080/tasks HTTP/1.1", "agent-b:8080"), "agent-b");
  EXPECT_EQ(destination(c, kInboundListener, "GET /tasks HTTP/1.1", "agent-a"), kLocalDestination);
}

TEST(CallDestination, NamesNothingThatIsNotAConfiguredDestination) {
  EXPECT_EQ(destination(config(true), kOutboundListener, "GET http://elsewhere/x HTTP/1.1", "elsewhere"), "");
  EXPECT_EQ(destination(config(true), kOutboundListener, "CONNECT api.example.com:443 HTTP/1.1", "api.example.com:443"),
            "");
  EXPECT_EQ(destination(config(false), kOutboundListener, "POST /v1/chat/completions HTTP/1.1", "127.0.0.1"), "");
  EXPECT_EQ(destination(config(true), kOutboundListener, "POST /mcp HTTP/1.1", "127.0.0.1"), "");  // the MCP endpoint
}

}  // namespace
}  // namespace tollway::sidecar
