// bench/telemetry encode: the telemetry thread's CPU per request without I/O — the request's SERVER and CLIENT
// spans written as OTLP JSON into a batch, and its access log line — beside a memcpy of the same number of bytes
// (the floor any encoder pays to produce them), so docs/benchmarks.md can report a ratio. The record is the
// proxy benchmark's request (one attempt, usage reported, a session, an incoming traceparent).
// Run: build/<dir>/bench/telemetry/telemetry_encode_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "telemetry/otlp_json.h"
#include "telemetry/record_format.h"
#include "telemetry/span_json.h"

namespace {

using namespace tollway;
using namespace tollway::telemetry;

RequestRecord bench_record() {
  RequestRecord r;
  r.request_id = "922c870572cea956bec2a61692f5df2e";
  r.trace_id = *TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  r.span_id = *SpanId::from_hex("5e25a076df8bb625");
  r.parent_span_id = *SpanId::from_hex("00f067aa0ba902b7");
  r.trace_flags = 1;
  r.sampled = true;
  r.incoming = IncomingTraceparent::Valid;
  r.method = "POST";
  r.route = "/v1/chat/completions";
  r.operation = "chat";
  r.caller_api = "openai";
  r.session = "bench-session";
  r.provider = "openai";
  r.provider_api = "openai";
  r.model = "gpt-4o-mini";
  r.status = 200;
  r.attempts = 1;
  r.usage_known = true;
  r.input_tokens = 19;
  r.output_tokens = 9;
  r.cost_micro_usd = 8;
  r.start_unix_nano = 1'764'590'093'985'000'000;
  r.end_unix_nano = r.start_unix_nano + 4'250'000;
  r.total_seconds = 0.00425;
  r.gateway_seconds = 0.000442;
  r.upstream_ttfb_seconds = 0.000753;
  r.upstream_stream_seconds = 0.003311;
  AttemptSpanRecord& a = r.upstream_attempts.emplace_back();
  a.span_id = *SpanId::from_hex("1111111111111111");
  a.provider = "openai";
  a.provider_api = "openai";
  a.endpoint = "http://127.0.0.1:45385/v1/chat/completions";
  a.model = "gpt-4o-mini";
  a.start_unix_nano = r.start_unix_nano + 400'000;
  a.end_unix_nano = r.end_unix_nano - 20'000;
  a.status = 200;
  return r;
}

constexpr int kBatch = 256;  // requests per export batch (512 spans)

void BM_SpansIntoBatch(benchmark::State& state) {
  const RequestRecord r = bench_record();
  const std::string prefix = trace_request_prefix(Resource::for_service("tollway", "0.1.0", "5e25a076df8bb625"), {});
  TextBuffer batch;
  for (auto _ : state) {
    batch.clear();
    batch.append(prefix);
    for (int i = 0; i < kBatch; ++i) append_request_spans(batch, r, i == 0);
    batch.append(kTraceRequestSuffix);
    benchmark::DoNotOptimize(batch.view().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["bytes_per_request"] = static_cast<double>(batch.size()) / kBatch;
}
BENCHMARK(BM_SpansIntoBatch);

void BM_AccessLogLines(benchmark::State& state) {
  const RequestRecord r = bench_record();
  TextBuffer pending;
  for (auto _ : state) {
    pending.clear();
    for (int i = 0; i < kBatch; ++i) {
      append_access_log_line(pending, r);
      pending.push_back('\n');
    }
    benchmark::DoNotOptimize(pending.view().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["bytes_per_request"] = static_cast<double>(pending.size()) / kBatch;
}
BENCHMARK(BM_AccessLogLines);

// Reference: the same bytes per request (spans + access line) copied, not encoded.
void BM_Reference_CopySameBytes(benchmark::State& state) {
  const RequestRecord r = bench_record();
  TextBuffer encoded;
  append_request_spans(encoded, r, true);
  append_access_log_line(encoded, r);
  const std::string one(encoded.view());
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < kBatch; ++i) out.append(one);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["bytes_per_request"] = static_cast<double>(one.size());
}
BENCHMARK(BM_Reference_CopySameBytes);

}  // namespace

BENCHMARK_MAIN();
