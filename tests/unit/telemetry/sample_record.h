// A finished, retried chat call (503 then 200) as the telemetry thread receives it: the shared input of the
// access log, decision log and span encoding tests.
#pragma once

#include "telemetry/request_record.h"

namespace tollway::telemetry::samples {

inline RequestRecord retried_call() {
  RequestRecord r;
  r.request_id = "req-1";
  r.trace_id = *TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  r.span_id = *SpanId::from_hex("1111111111111111");
  r.parent_span_id = *SpanId::from_hex("00f067aa0ba902b7");
  r.trace_flags = 1;
  r.sampled = true;
  r.incoming = IncomingTraceparent::Valid;
  r.method = "POST";
  r.route = "/v1/chat/completions";
  r.operation = "chat";
  r.tenant = "acme";
  r.agent = "planner";
  r.session = "s-9";
  r.provider = "openai";
  r.provider_api = "openai";
  r.model = "gpt-4o";
  r.status = 200;
  r.attempts = 2;
  r.usage_known = true;
  r.input_tokens = 12;
  r.output_tokens = 5;
  r.cost_micro_usd = 1234;
  r.start_unix_nano = 1'700'000'000'000'000'000;
  r.end_unix_nano = r.start_unix_nano + 250'000'000;
  r.total_seconds = 0.25;
  r.gateway_seconds = 0.001;
  r.upstream_ttfb_seconds = 0.1;
  r.upstream_stream_seconds = 0.05;
  for (int i = 0; i < 2; ++i) {
    AttemptSpanRecord& a = r.upstream_attempts.emplace_back();
    a.span_id = *SpanId::from_hex(i == 0 ? "2222222222222222" : "3333333333333333");
    a.provider = "openai";
    a.provider_api = "openai";
    a.endpoint = "http://127.0.0.1:9000/openai";
    a.target = "/openai/v1/chat/completions?api-version=2024-10-21";
    a.model = "gpt-4o";
    a.start_unix_nano = r.start_unix_nano + static_cast<uint64_t>(i) * 100'000'000;
    a.end_unix_nano = a.start_unix_nano + 50'000'000;
    a.status = i == 0 ? 503 : 200;
    a.failure = i == 0 ? "5xx" : "";
  }
  return r;
}

}  // namespace tollway::telemetry::samples
