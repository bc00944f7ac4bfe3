// TraceInfo: the request's place in a distributed trace, a pipeline::FeatureStates entry written by
// telemetry::TelemetryFilter (authorize: the SERVER span's context and what became of the caller's context;
// shape_upstream: each attempt's CLIENT span) or, in a sidecar, by sidecar::HopTrace. Absent when tracing is off;
// it never holds the caller's raw headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "telemetry/trace_context.h"

namespace tollway::telemetry {

struct TraceInfo {
  bool established = false;
  SpanContext server;  // our SERVER span: trace id, span id, sampled flag, tracestate
  SpanId parent;       // the trusted caller's span id; zero when our span is a root
  IncomingTraceparent incoming = IncomingTraceparent::Absent;
  bool restarted = false;  // the caller sent a valid context that was not trusted (trust boundary)
  // The CLIENT span of each upstream attempt shaped, by attempt number - 1 (pipeline::AttemptRecord::number);
  // zero for an attempt this filter did not shape.
  std::vector<SpanId> attempt_spans;
  std::chrono::steady_clock::time_point first_output;  // first response body byte sent to the client
  std::string output_content;  // the response body as sent, only with telemetry.tracing.capture_content

  SpanId attempt_span(uint32_t number) const {
    return number >= 1 && number <= attempt_spans.size() ? attempt_spans[number - 1] : SpanId{};
  }
};

}  // namespace tollway::telemetry
