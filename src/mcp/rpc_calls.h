// RpcInfo: the JSON-RPC view of one request on an MCP or A2A path, a pipeline::FeatureStates entry written by the
// MCP guard, the sidecar's A2aGuard or the gateway's MCP endpoint (authorize phase; each call's span and outcome
// as the response passes). Present once the role classified the path as JSON-RPC (its errors are then JSON-RPC
// errors); `active` once the body was read. It holds what was read, never the body itself.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "pipeline/feature_state.h"
#include "telemetry/trace_context.h"

namespace tollway::mcp {

// One JSON-RPC request or notification of the body; an MCP batch has several.
struct RpcCall {
  std::string method;        // mcp.method.name, or the A2A method
  std::string target;        // MCP: the tool or prompt name, or the resource URI; A2A: the skill ("" for none)
  bool tool = false;         // an MCP tools/call (target is gen_ai.tool.name)
  bool message = false;      // an A2A message/send or message/stream (gen_ai.operation.name invoke_agent)
  std::string id;            // the request id's JSON text ("" for a notification)
  std::string id_key;        // for matching its response (mcp::Message::id_key)
  telemetry::SpanId span;    // its span, a child of the hop's (zero without tracing)
  std::string error_type;    // "" when it succeeded; the JSON-RPC error code, "tool_error", or tollway's code
  std::chrono::steady_clock::time_point answered;  // its (first) response seen (epoch: not seen)
  std::string task_id, context_id;  // A2A: the task and context the call continues or its answer names
};

struct RpcInfo {
  enum class Protocol { Mcp, A2a } protocol = Protocol::Mcp;
  bool active = false;
  bool batch = false;
  std::string server;            // the MCP server's name (mcp.server) or the A2A agent's (a2a.agent)
  std::string session_id;        // MCP: Mcp-Session-Id, "" before initialize
  std::string protocol_version;  // MCP-Protocol-Version or A2A-Version, "" when not sent
  std::vector<RpcCall> calls;
};

// The request's JSON-RPC calls: none when it is no MCP or A2A request.
inline std::span<const RpcCall> rpc_calls_of(const pipeline::FeatureStates& features) {
  const RpcInfo* rpc = features.find<RpcInfo>();
  if (rpc == nullptr) return {};
  return rpc->calls;
}

}  // namespace tollway::mcp
