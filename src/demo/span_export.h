// The spans the demo's built-in agents made themselves, as OTLP/HTTP JSON for the control plane's trace window
// (POST /v1/traces), and how many spans a trace answer (GET /v1/traces/{id}) holds. Pure text functions: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "demo/agents.h"

namespace tollway::demo {

// One OTLP ExportTraceServiceRequest (JSON encoding): a resource per service, a SERVER span per AgentSpan.
std::string otlp_json_of(const std::vector<AgentSpan>& spans);

// The number of spans in a GET /v1/traces/{id} answer; 0 when it holds none or is not one.
std::size_t trace_span_count(std::string_view trace_json);

}  // namespace tollway::demo
