// McpGuard: MCP awareness for a role that serves or exposes an MCP server over streamable HTTP, decided by the
// role's McpPolicy (which requests are MCP and for which server, who the caller is, what it may use). Authorize
// phase: GET and DELETE pass only without a body, methods other than POST are refused (405); a POST body is read
// as JSON-RPC strictly (malformed: the JSON-RPC error the spec prescribes, nothing forwarded), every tools/call,
// prompts/get and resource read is decided for the caller (a refused call is answered with a JSON-RPC error and
// a decision-log line and never forwarded; in a batch nothing is forwarded), and each operation gets a span under
// the request's, its trace context written into params._meta. Response: list results (tools, prompts, resources,
// templates) are filtered to what the caller may use — in a JSON body or an SSE stream — so a forbidden tool is
// never offered; each operation's outcome is read for its span and the mcp.server.operation.duration histogram.
// It never forwards a body it could not read, never passes on a list it could not filter, and never edits bytes
// other than _meta and the lists.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/guard/rules.h"
#include "mcp/rpc_calls.h"
#include "pipeline/filter.h"
#include "telemetry/explicit_histogram.h"

namespace tollway::mcp {

namespace asio = boost::asio;

// Process-lifetime MCP state of one role across reloads: the operation-duration histograms (server and client
// side) and the refusals, rendered on /metrics.
class McpRuntime {
 public:
  // `role` names the refusals counter: tollway_<role>_mcp_refusals_total.
  explicit McpRuntime(std::string role) : role_(std::move(role)) {}
  // mcp.server.operation.duration (McpGuard).
  void observe(std::string_view method, std::string_view target, std::string_view error_type, double seconds);
  // mcp.client.operation.duration (a role calling MCP servers for its agent).
  void observe_client(std::string_view method, std::string_view target, std::string_view error_type, double seconds);
  void count_refusal(std::string_view reason);
  void render_metrics(std::string& out) const;

 private:
  std::string role_;
  mutable std::mutex mutex_;
  std::map<std::string, telemetry::ExplicitHistogram> durations_, client_durations_;  // by rendered label set
  std::map<std::string, uint64_t> refusals_;                       // by reason
};

// The JSON-RPC answer to every request of `rpc` (one object, or an array for an MCP batch) carrying `code` and
// `message`, with `data_json` ("" for none); what a caller's MCP or A2A SDK raises as the call's error.
std::string rpc_error_reply(const mcp::RpcInfo& rpc, int code, std::string_view message,
                            std::string_view data_json);

// The HTTP status of an error answered as rpc_error_reply for `rpc`: 200 once a call of it has an id (the error
// is each request's JSON-RPC answer), else `status` (also when `rpc` is null: not a JSON-RPC request).
int rpc_error_status(const mcp::RpcInfo* rpc, int status);

// Answers an MCP or A2A request itself: HTTP `status` with rpc_error_reply(`code`, `message`, data {type:
// `error_type`, code: `reason`}), the outcome's error and code set, every call not yet marked given error.type
// `reason`. Returns Replied.
pipeline::Verdict reply_rpc_error(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                                  std::string_view reason, std::string_view error_type);

// The MCP server a request is for, as the role names it.
struct McpServerRef {
  std::string name;
  uint64_t max_message_bytes = 4 << 20;  // a request or response message longer than this is refused
};

// The caller of one request as the role's rules see it.
struct McpCaller {
  std::string name;  // in refusal messages: a SPIFFE ID, "tenant acme, key k1"
  std::vector<std::pair<std::string, std::string>> log_fields;  // who called whom, in decision-log lines
  std::function<McpDecision(TargetKind, std::string_view target)> decide;
};

// A role's side of MCP: pure lookups over its snapshot, safe to call concurrently.
class McpPolicy {
 public:
  virtual ~McpPolicy() = default;
  // The MCP server `ctx` is addressed to; null when the request is not an MCP one.
  virtual const McpServerRef* server(const pipeline::RequestCtx& ctx) const = 0;
  // The caller of `ctx` for `server`'s rules; nullopt, with `why`, when it has no identity the rules can name.
  virtual std::optional<McpCaller> caller(const pipeline::RequestCtx& ctx, const McpServerRef& server,
                                          std::string& why) const = 0;
  // data.type of the JSON-RPC errors the guard answers with ("tollway_sidecar_error").
  virtual std::string_view error_type() const = 0;
};

class McpGuard final : public pipeline::Filter {
 public:
  McpGuard(std::shared_ptr<const McpPolicy> policy, McpRuntime& runtime)
      : policy_(std::move(policy)), runtime_(runtime) {}
  std::string_view name() const override { return "mcp_guard"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                   const http::ResponseHead& head) override;
  void log(const pipeline::RequestCtx& ctx) override;

 private:
  pipeline::Verdict refuse(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                           std::string_view reason) const;

  std::shared_ptr<const McpPolicy> policy_;
  McpRuntime& runtime_;
};

}  // namespace tollway::mcp
