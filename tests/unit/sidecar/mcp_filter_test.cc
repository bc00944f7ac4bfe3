// mcp::McpGuard with the sidecar's policy, without processes: a refused tools/call answered as a JSON-RPC error, the span's context written into
// params._meta, and list answers filtered whatever the chunks they arrive in (JSON bodies and SSE streams).
#include "sidecar/mcp_filter.h"

#include <gtest/gtest.h>

#include "../filter_phase.h"
#include "http/parser.h"
#include "sidecar/filters.h"
#include "telemetry/trace_info.h"

namespace tollway::sidecar {
namespace {

using pipeline::Verdict;
using testing::run_phase;

constexpr std::string_view kCaller = "spiffe://example.org/ns/prod/sa/client";

std::shared_ptr<const SidecarConfig> config() {
  auto loaded = parse_sidecar_config(R"(version: 1
sidecar:
  spiffe_id: spiffe://example.org/ns/prod/sa/files
  agent: 127.0.0.1:8000
  tls: {cert_file: b.pem, key_file: b.key, bundle_file: ca.pem}
mcp:
  server: files
  rules:
    - {action: allow, from: [spiffe://example.org/ns/prod/sa/client], tools: ["read_*"]}
)",
                                     "sidecar.yaml", [](const std::string&) -> std::optional<std::string> { return {}; });
  EXPECT_TRUE(loaded.config);
  return std::make_shared<const SidecarConfig>(std::move(*loaded.config));
}

struct Call {
  std::string bytes;
  http::RequestHead head;
  tls::PeerIdentity identity;
  pipeline::RequestCtx ctx;
  explicit Call(std::string body, std::string method = "POST")
      : bytes(method + " /mcp HTTP/1.1\r\nHost: files\r\nMcp-Session-Id: s-1\r\n\r\n") {
    http::ParseError error;
    EXPECT_EQ(http::parse_request_head(bytes, {}, head, error), http::ParseStatus::Complete);
    identity.spiffe_id = std::string(kCaller);
    ctx.head = &head;
    ctx.peer_identity = &identity;
    ctx.listener = kInboundListener;
    ctx.body = std::move(body);
  }
};

// The transformer's output for `body` fed in pieces of `step` bytes.
std::string transformed(pipeline::ResponseBodyTransformer& t, std::string_view body, std::size_t step) {
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += step) t.transform(body.substr(at, step), false, out);
  t.transform({}, true, out);
  return out;
}

http::ResponseHead answer(std::string_view content_type) {
  http::ResponseHead head;
  head.status = 200;
  head.headers.push_back({"Content-Type", content_type});
  return head;
}

TEST(McpGuard, RefusesAForbiddenToolWithAJsonRpcErrorAndRecordsTheCall) {
  mcp::McpRuntime runtime{"sidecar"};
  mcp::McpGuard guard(std::make_shared<const SidecarMcpPolicy>(config()), runtime);
  Call call(R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"delete_file"}})");
  EXPECT_EQ(run_phase(guard.authorize(call.ctx)), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 200);
  EXPECT_NE(call.ctx.reply.body.find(R"("id":"c1","error":{"code":-32003)"), std::string::npos) << call.ctx.reply.body;
  ASSERT_EQ(call.ctx.features.get<mcp::RpcInfo>().calls.size(), 1u);
  EXPECT_EQ(call.ctx.features.get<mcp::RpcInfo>().calls[0].error_type, "forbidden");
  EXPECT_EQ(call.ctx.features.get<mcp::RpcInfo>().session_id, "s-1");
}

TEST(McpGuard, OnlyPostCarriesMessagesGetAndDeleteComeWithoutABody) {
  mcp::McpRuntime runtime{"sidecar"};
  mcp::McpGuard guard(std::make_shared<const SidecarMcpPolicy>(config()), runtime);
  Call put(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file"}})", "PUT");
  EXPECT_EQ(run_phase(guard.authorize(put.ctx)), Verdict::Replied);
  EXPECT_EQ(put.ctx.reply.status, 405);
  Call get_with_body(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file"}})", "GET");
  EXPECT_EQ(run_phase(guard.authorize(get_with_body.ctx)), Verdict::Replied);
  EXPECT_EQ(get_with_body.ctx.reply.status, 400);
  Call get("", "GET");
  EXPECT_EQ(run_phase(guard.authorize(get.ctx)), Verdict::Continue);
  Call end("", "DELETE");
  EXPECT_EQ(run_phase(guard.authorize(end.ctx)), Verdict::Continue);
}

TEST(McpGuard, WritesTheOperationsSpanIntoMeta) {
  mcp::McpRuntime runtime{"sidecar"};
  mcp::McpGuard guard(std::make_shared<const SidecarMcpPolicy>(config()), runtime);
  Call call(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","_meta":{"traceparent":"x"}}})");
  call.ctx.features.get<telemetry::TraceInfo>().established = true;
  call.ctx.features.get<telemetry::TraceInfo>().server = telemetry::new_root_context(true);
  EXPECT_EQ(run_phase(guard.authorize(call.ctx)), Verdict::Continue);
  ASSERT_EQ(call.ctx.features.get<mcp::RpcInfo>().calls.size(), 1u);
  telemetry::SpanContext span = call.ctx.features.get<telemetry::TraceInfo>().server;
  span.span_id = call.ctx.features.get<mcp::RpcInfo>().calls[0].span;
  EXPECT_NE(call.ctx.body.find(R"("_meta":{"traceparent":")" + telemetry::format_traceparent(span) + "\""),
            std::string::npos)
      << call.ctx.body;
}

TEST(McpGuard, FiltersListAnswersInEveryChunkingOfJsonAndSse) {
  const std::string result = R"({"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"read_file"},{"name":"delete_file"}]}})";
  const std::string filtered = R"({"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"read_file"}]}})";
  const std::string progress = R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})";
  const std::string sse = ": ping\r\nevent: message\r\ndata: " + progress + "\r\n\r\nid: e2\r\ndata: " + result + "\r\n\r\n";
  const std::string sse_filtered = ": ping\r\nevent: message\r\ndata: " + progress + "\r\n\r\nid: e2\ndata: " + filtered + "\n\r\n";
  for (std::size_t step = 1; step <= sse.size(); ++step) {
    mcp::McpRuntime runtime{"sidecar"};
    mcp::McpGuard guard(std::make_shared<const SidecarMcpPolicy>(config()), runtime);
    Call call(R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})");
    ASSERT_EQ(run_phase(guard.authorize(call.ctx)), Verdict::Continue);
    auto json = guard.response_body(call.ctx, answer("application/json"));
    ASSERT_TRUE(json);
    EXPECT_TRUE(json->changes_length());
    if (step <= result.size()) {
      EXPECT_EQ(transformed(*json, result, step), filtered) << step;
    }
    auto stream = guard.response_body(call.ctx, answer("text/event-stream"));
    EXPECT_EQ(transformed(*stream, sse, step), sse_filtered) << step;
  }
}

TEST(McpGuard, AListItCannotReadIsReplacedByAnError) {
  mcp::McpRuntime runtime{"sidecar"};
  mcp::McpGuard guard(std::make_shared<const SidecarMcpPolicy>(config()), runtime);
  Call call(R"({"jsonrpc":"2.0","id":7,"method":"tools/list"})");
  ASSERT_EQ(run_phase(guard.authorize(call.ctx)), Verdict::Continue);
  auto json = guard.response_body(call.ctx, answer("application/json"));
  const std::string out = transformed(*json, R"({"jsonrpc":"2.0","id":7,"result":{"tools":"all of them"}})", 5);
  EXPECT_EQ(out.find("delete"), std::string::npos);
  EXPECT_NE(out.find(R"("id":7,"error":{"code":-32603)"), std::string::npos) << out;
}

}  // namespace
}  // namespace tollway::sidecar
