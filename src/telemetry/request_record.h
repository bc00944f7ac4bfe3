// RequestRecord: everything the telemetry of one finished request needs (access log line, decision log entry,
// SERVER and CLIENT spans), as plain values copied out of the request's context at its end. The request thread
// only fills and queues it; formatting and encoding happen on the telemetry thread. It never holds pointers
// into the request (the request is gone when the record is read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/trace_context.h"

namespace tollway::telemetry {

// One upstream attempt: a CLIENT span.
struct AttemptSpanRecord {
  SpanId span_id;
  std::string provider;  // the configured provider name
  std::string provider_api;  // gen_ai.provider.name: "openai", "anthropic", "gcp.gemini", "azure.ai.openai"
  std::string endpoint;  // the endpoint's URL as configured (scheme, host, port, path prefix)
  std::string target;    // the path and query sent to it (path prefix included)
  std::string model;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  int status = 0;        // 0: no response
  std::string failure;   // "" or connect, closed, timeout, protocol, 429, 5xx
};

// One MCP or A2A operation a sidecar hop carried (sidecar/mcp_filter.h, sidecar/a2a_filter.h): a span of its own
// under the hop's, named `{mcp.method.name} {target}` by OpenTelemetry's MCP conventions, or `{method} {skill}`.
struct RpcSpanRecord {
  SpanId span_id;
  std::string method;
  std::string target;       // the tool or prompt name, the resource URI, or the A2A skill
  std::string target_kind;  // "tool", "prompt", "resource", "skill" or ""
  std::string operation;    // gen_ai.operation.name: "execute_tool" (MCP tools/call), "invoke_agent" (A2A message)
  std::string request_id;   // jsonrpc.request.id: the string, or the integer's digits ("" for a notification)
  std::string error_type;   // "" when it succeeded
  std::string task_id, context_id;  // A2A: the task and context it names ("" when none)
  uint64_t end_unix_nano = 0;
};

struct RequestRecord {
  std::string request_id;
  // Trace.
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span_id;  // zero: root
  uint8_t trace_flags = 0;
  bool sampled = false;
  IncomingTraceparent incoming = IncomingTraceparent::Absent;
  bool restarted = false;
  // Request.
  std::string method;
  std::string route;       // configured path, "" when none matched
  std::string operation;   // gen_ai.operation.name, "" for non-GenAI calls
  std::string caller_api;  // "openai" / "anthropic"
  std::string tenant, agent, key_id, session;
  std::string peer_spiffe_id, peer_subject;  // the verified client certificate's, "" without one
  std::string provider, provider_api, model;
  bool stream = false;
  std::optional<uint64_t> max_tokens;
  // Outcome.
  int status = 0;
  std::string error_code;
  std::string error_type;  // OTel error.type, "" on success: one of kErrorTypes (telemetry/error_type.h)
  uint32_t attempts = 0;
  uint64_t response_bytes = 0;
  // Usage and cost.
  bool usage_known = false, usage_estimated = false, priced_at_default = false;
  uint64_t input_tokens = 0, output_tokens = 0, cached_input_tokens = 0, cache_creation_input_tokens = 0,
           reasoning_tokens = 0;
  int64_t cost_micro_usd = 0;
  std::string usage_error_event;
  // Time: wall clock for spans, seconds for the latency split.
  uint64_t start_unix_nano = 0, end_unix_nano = 0;
  double total_seconds = 0;
  double gateway_seconds = 0;          // inside tollway, upstream excluded
  double upstream_ttfb_seconds = 0;    // request sent -> response head (answering attempt)
  double upstream_stream_seconds = 0;  // response head -> last byte (answering attempt)
  double time_to_first_output_seconds = -1;  // request start -> first body byte to the client (-1: none)
  // Decision (a denial by the gateway itself).
  bool denied = false;
  std::string decision_filter, decision_rule, decision_reason;
  std::vector<std::string> shadow_rules;
  std::string policy_version;  // the config (snapshot) version that decided
  uint64_t policy_generation = 0;
  std::vector<AttemptSpanRecord> upstream_attempts;
  // A sidecar hop (sidecar/trace_filter.h): one span, CLIENT for an outbound call (SERVER otherwise), with both
  // peers' identities, the peer's directory name, the hop count, whether it was an orphan call and whether that
  // was repaired.
  bool client_span = false;
  std::string source_spiffe_id, destination_spiffe_id, peer_name;
  uint32_t hops = 0;
  bool trace_orphan = false;
  bool trace_repaired = false;
  // The MCP or A2A operations of the hop's body, and their protocol ("mcp" or "a2a"), session, protocol version and
  // server (MCP) or agent (A2A) name.
  std::vector<RpcSpanRecord> rpc_operations;
  std::string rpc_protocol, rpc_session_id, rpc_protocol_version, rpc_server;
  // Opt-in content (telemetry.tracing.capture_content), raw JSON as exchanged, capped.
  std::string input_content, output_content;
};

}  // namespace tollway::telemetry
