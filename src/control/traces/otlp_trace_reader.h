// OtlpTraceReader: reads one OTLP/HTTP JSON ExportTraceServiceRequest (opentelemetry-proto's JSON encoding: what
// our nodes' exporters send, telemetry/otlp_json.h, and what an OpenTelemetry Collector's otlphttp exporter sends
// with `encoding: json`) into the spans the trace window keeps: ids, times, service.name, name, kind, status and the
// tollway attributes that mark a hop (tollway.hops, tollway.peer, tollway.trace.orphan, tollway.trace.repaired,
// http.response.status_code), the token usage (gen_ai.usage.input_tokens, output_tokens), whether the span is an
// MCP or A2A operation (mcp.method.name, rpc.method) and whether tollway made it (instrumentation scope "tollway"). Whole or nothing: the first field of the wrong shape fails the whole request with its
// path (resourceSpans[0].scopeSpans[1].spans[3].spanId) and what was expected. Unknown fields are ignored, as the
// OTLP spec asks of receivers. Pure: no I/O, no clock, no state; its errors name paths, never echo field values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/trace_context.h"

namespace tollway::control::traces {

// OTLP Span.SpanKind and Status.StatusCode numbering.
enum class SpanKind : uint8_t { Unspecified = 0, Internal = 1, Server = 2, Client = 3, Producer = 4, Consumer = 5 };
enum class StatusCode : uint8_t { Unset = 0, Ok = 1, Error = 2 };
// The JSON-RPC protocol an operation span speaks (mcp.method.name: MCP; rpc.method: A2A), None for other spans.
enum class RpcProtocol : uint8_t { None, Mcp, A2a };

// One span as the window keeps it (its trace id is its trace's).
struct WindowSpan {
  telemetry::SpanId span_id;
  telemetry::SpanId parent_span_id;  // invalid (all zero) for a root span
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;                   // >= start_unix_nano
  std::shared_ptr<const std::string> service;   // the resource's service.name ("" without one), shared per resource
  std::string name;
  std::string status_message;
  std::string peer;  // tollway.peer ("" without)
  uint32_t tollway_hops = 0;  // tollway.hops (x-tollway-hops), 0 without
  uint16_t http_status = 0;   // http.response.status_code, 0 without
  uint32_t input_tokens = 0, output_tokens = 0;  // gen_ai.usage.*, when has_usage
  bool has_usage = false;    // both gen_ai.usage.input_tokens and output_tokens were given
  bool tollway = false;      // its instrumentation scope is "tollway" (a gateway's or sidecar's own span)
  RpcProtocol protocol = RpcProtocol::None;
  SpanKind kind = SpanKind::Unspecified;
  StatusCode status = StatusCode::Unset;
  bool orphan = false;    // tollway.trace.orphan: a sidecar saw this outbound call arrive without trace context
  bool repaired = false;  // tollway.trace.repaired: ... and continued the one inbound request in flight's trace
};

struct ReceivedSpan {
  telemetry::TraceId trace_id;
  WindowSpan span;
};

// The largest request body read (after gzip): a DOM of it stays within tens of MiB.
inline constexpr std::size_t kMaxOtlpJsonBytes = 8 * 1024 * 1024;

// The spans of `json` in document order; nullopt with `error` ("PATH: expected ..." or the JSON syntax error
// with its byte offset) when any part of it is not an ExportTraceServiceRequest.
std::optional<std::vector<ReceivedSpan>> read_otlp_traces(std::string_view json, std::string& error);

}  // namespace tollway::control::traces
