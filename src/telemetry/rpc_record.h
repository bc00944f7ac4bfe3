// The MCP or A2A operations of one request (mcp::RpcInfo) as its span record's rpc fields: one operation span
// per call that was given a span, named by the OpenTelemetry MCP and GenAI conventions. Pure; no I/O.
#pragma once

#include <chrono>

#include "mcp/rpc_calls.h"
#include "telemetry/request_record.h"

namespace tollway::telemetry {

// Fills r's rpc fields from `rpc` when it is active; `now` is the steady time of r.end_unix_nano.
void record_rpc(const mcp::RpcInfo& rpc, std::chrono::steady_clock::time_point now, RequestRecord& r);

}  // namespace tollway::telemetry
