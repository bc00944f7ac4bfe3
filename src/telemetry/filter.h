// TelemetryFilter: the request's trace, metrics and log record. Authorize phase: reads the caller's
// traceparent / tracestate / baggage with the strict W3C parsers, applies the trust boundary
// (telemetry.tracing.trust_incoming: by keyword, or by the connection's peer address in the configured networks
// plus, optionally, authentication; an untrusted caller's context restarts the trace) and the parent-based ratio
// sampler, and fixes the SERVER span's context. shape_upstream (each upstream attempt): a new CLIENT span whose id
// goes upstream as the traceparent's parent, with our `tollway=` tracestate entry first. Log phase: records the
// GenAI, cost, denial and trace-context series in the worker's metrics and queues a RequestRecord for the access
// log, the decision log and OTLP. It never waits, never does I/O, and never copies a header value or credential
// into telemetry (prompt and response bodies only with telemetry.tracing.capture_content).
#pragma once

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "pipeline/filter.h"
#include "telemetry/call_metrics.h"
#include "telemetry/sampler.h"
#include "telemetry/telemetry_output.h"
#include "telemetry/trace_info.h"

namespace tollway::telemetry {

namespace asio = boost::asio;

class TelemetryFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the configuration.
  struct Config {
    config::TelemetryConfig telemetry;  // trust boundary, sampling, baggage, content capture, label caps
    // Providers with an `azure` block: their calls are named gen_ai.provider.name "azure.ai.openai".
    std::vector<std::string> azure_providers;
  };

  // `output` is process-lifetime (gateway::Services); null when nothing consumes records.
  TelemetryFilter(Config config, TelemetryOutput* output);

  std::string_view name() const override { return "telemetry"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  void on_response_bytes(pipeline::RequestCtx& ctx, std::string_view bytes, bool last) override;
  void log(const pipeline::RequestCtx& ctx) override;

  // The trace the request belongs to, from its headers and caller (the authorize phase stores it as the
  // request's TraceInfo; a request denied before that gets it at log time).
  TraceInfo decide_trace(const pipeline::RequestCtx& ctx) const;

 private:
  const char* provider_name_of(std::string_view provider, config::Api api) const;

  Config config_;
  TelemetryOutput* output_;
  ParentBasedRatioSampler sampler_;
  LabelCaps caps_;
};

// gen_ai.operation.name of a route path ("" for calls that are not GenAI operations, e.g. /v1/models).
std::string_view genai_operation_of(std::string_view route_path);

}  // namespace tollway::telemetry
