// bench/telemetry encode: the telemetry thread's CPU per request without I/O — the request's SERVER and
// CLIENT spans written as OTLP JSON into a batch, and its access log line — beside a memcpy of the same
// number of bytes (the floor any encoder pays to produce them), so docs/benchmarks.md can report a ratio. The
// record has the proxy benchmark's shape (one attempt, usage reported, a session, an incoming traceparent).
// Run: build/<dir>/bench/telemetry/telemetry_encode_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "../../tests/unit/telemetry/sample_record.h"
#include "telemetry/otlp_json.h"
#include "telemetry/record_format.h"
#include "telemetry/span_json.h"

namespace {

using namespace tollway;
using namespace tollway::telemetry;

// The tests' retried call reduced to the proxy benchmark's shape: one attempt that answered.
RequestRecord bench_record() {
  RequestRecord r = samples::retried_call();
  r.upstream_attempts.erase(r.upstream_attempts.begin());
  r.attempts = 1;
  r.request_id = "922c870572cea956bec2a61692f5df2e";
  r.upstream_attempts.front().endpoint = "http://127.0.0.1:45385/v1/chat/completions";
  return r;
}

constexpr int kBatch = 256;  // requests per export batch (512 spans)

void BM_SpansIntoBatch(benchmark::State& state) {
  const RequestRecord r = bench_record();
  const std::string prefix =
      trace_request_prefix(Resource::for_service("tollway", "0.1.0", "5e25a076df8bb625"), {});
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
