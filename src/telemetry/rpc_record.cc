#include "telemetry/rpc_record.h"

#include "telemetry/genai_semconv.h"

namespace tollway::telemetry {

void record_rpc(const mcp::RpcInfo& rpc, std::chrono::steady_clock::time_point now, RequestRecord& r) {
  if (!rpc.active) return;
  const bool a2a = rpc.protocol == mcp::RpcInfo::Protocol::A2a;
  r.rpc_protocol = a2a ? "a2a" : "mcp";
  r.rpc_session_id = rpc.session_id;
  r.rpc_protocol_version = rpc.protocol_version;
  r.rpc_server = rpc.server;
  for (const auto& call : rpc.calls) {
    if (!call.span.valid()) continue;
    RpcSpanRecord& op = r.rpc_operations.emplace_back();
    op.span_id = call.span;
    op.method = call.method;
    op.target = call.target;
    if (a2a)
      op.target_kind = call.target.empty() ? "" : "skill";
    else
      op.target_kind = call.tool                       ? "tool"
                       : call.method == "prompts/get" ? "prompt"
                       : call.target.empty()          ? ""
                                                      : "resource";
    if (call.tool) op.operation = genai::operation::kExecuteTool;
    if (call.message) op.operation = genai::operation::kInvokeAgent;
    op.request_id = call.id_key.size() > 2 ? call.id_key.substr(2) : std::string();
    op.error_type = call.error_type;
    op.task_id = call.task_id;
    op.context_id = call.context_id;
    if (call.answered != std::chrono::steady_clock::time_point{})
      op.end_unix_nano =
          r.end_unix_nano -
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - call.answered).count());
  }
}

}  // namespace tollway::telemetry
