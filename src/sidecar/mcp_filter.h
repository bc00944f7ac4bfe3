// McpGuard: MCP awareness on the sidecar's inbound side, for a local agent that serves MCP over streamable HTTP
// (the document's `mcp:` section). Authorize phase, on mcp.paths: GET and DELETE pass only without a body, other
// methods but POST are refused (405); for a POST, reads the body as JSON-RPC
// strictly (malformed: the JSON-RPC error the spec prescribes, nothing forwarded), decides every tools/call,
// prompts/get and resource read of it against mcp.rules for the caller's verified SPIFFE ID (a refused call is
// answered with a JSON-RPC error and a decision-log line and never forwarded; in a batch nothing is forwarded),
// gives each operation a span under the hop's and writes that span's trace context into its params._meta.
// Response: list results (tools, prompts, resources, templates) are filtered to what the caller may use — in a
// JSON body or an SSE stream — so a forbidden tool is never offered; each operation's outcome is read for its
// span and the mcp.server.operation.duration histogram. It never forwards a body it could not read, never passes
// on a list it could not filter, and never edits bytes other than _meta and the lists.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pipeline/filter.h"
#include "sidecar/config.h"
#include "telemetry/explicit_histogram.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// Process-lifetime MCP state across reloads: the operation-duration histograms (server and client side) and the
// refusals, rendered on /metrics.
class McpRuntime {
 public:
  // mcp.server.operation.duration (the inbound side, McpGuard).
  void observe(std::string_view method, std::string_view target, std::string_view error_type, double seconds);
  // mcp.client.operation.duration (the agent's MCP endpoint, McpEndpoint).
  void observe_client(std::string_view method, std::string_view target, std::string_view error_type, double seconds);
  void count_refusal(std::string_view reason);
  void render_metrics(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, telemetry::ExplicitHistogram> durations_, client_durations_;  // by rendered label set
  std::map<std::string, uint64_t> refusals_;                       // by reason
};

// The JSON-RPC answer to every request of `rpc` (one object, or an array for an MCP batch) carrying `code` and
// `message`, with `data_json` ("" for none); what a caller's MCP or A2A SDK raises as the call's error.
std::string rpc_error_reply(const pipeline::RpcInfo& rpc, int code, std::string_view message,
                            std::string_view data_json);

// Answers an MCP or A2A request itself: HTTP `status` with rpc_error_reply(`code`, `message`, data {type, code:
// `reason`}), the outcome's error and code set, every call not yet marked given error.type `reason`. Returns
// Replied.
pipeline::Verdict reply_rpc_error(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                                  std::string_view reason);

class McpGuard final : public pipeline::Filter {
 public:
  McpGuard(std::shared_ptr<const SidecarConfig> config, McpRuntime& runtime)
      : config_(std::move(config)), runtime_(runtime) {}
  std::string_view name() const override { return "mcp_guard"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                   const http::ResponseHead& head) override;
  void log(const pipeline::RequestCtx& ctx) override;

 private:
  bool is_mcp_path(const pipeline::RequestCtx& ctx) const;
  pipeline::Verdict refuse(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                           std::string_view reason) const;

  std::shared_ptr<const SidecarConfig> config_;
  McpRuntime& runtime_;
};

}  // namespace tollway::sidecar
