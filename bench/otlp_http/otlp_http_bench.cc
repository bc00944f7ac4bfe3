// bench/otlp_http: the exporter thread's CPU for one OTLP export (a 16 KiB JSON batch and its response) to a
// collector on 127.0.0.1, plain http and https (TLS 1.3 with certificate and name checks, the context kept between
// exports), each on a new connection per export (connect, handshake, close) and on the kept connection the
// exporter uses; plain http on a new connection is the reference, in the same run. And the cost of building the
// TLS context from the system trust store or from a one-CA ca_file, which keeping it saves per export.
// CPU time is the benchmark thread's (the client); the collector runs on its own thread.
// Run: taskset -c 1 build/<dir>/bench/otlp_http/otlp_http_bench
#include <benchmark/benchmark.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "../../tests/unit/loopback_collector.h"
#include "../../tests/unit/test_pki.h"
#include "telemetry/otlp_http.h"
#include "tls/client_context.h"

namespace {

using namespace tollway;

const TestPki& pki() {
  static const TestPki files;
  return files;
}

const std::string kBatch = [] {  // a batch-sized body: ~16 KiB of span-like JSON
  std::string out = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)";
  for (int i = 0; i < 10; ++i)
    out += std::string(i ? "," : "") + R"({"traceId":"0af7651916cd43dd8448eb211c80319c","name":"chat gpt-4o",)" +
           R"("attributes":[{"key":"pad","value":{"stringValue":")" + std::string(1500, 'x') + R"("}}]})";
  return out + "]}]}]}";
}();

void export_to(benchmark::State& state, LoopbackCollector& collector, bool tls, bool kept) {
  config::OtlpConfig c;
  c.tls = tls;
  c.host = "127.0.0.1";
  c.port = collector.port();
  c.ca_file = tls ? pki().file("ca.pem") : "";
  auto client = std::make_unique<telemetry::OtlpClient>(c);
  for (auto _ : state) {
    if (!kept) client = std::make_unique<telemetry::OtlpClient>(c);  // the previous one closes its connection
    const telemetry::HttpPostResult r = client->post("/v1/traces", kBatch);
    if (!r.status || *r.status != 200) state.SkipWithError(("export failed: " + r.error).c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["connections"] = static_cast<double>(collector.connections());
}

void BM_Export_PlainHttp_NewConnection_Reference(benchmark::State& state) {
  LoopbackCollector collector;
  export_to(state, collector, false, false);
}
BENCHMARK(BM_Export_PlainHttp_NewConnection_Reference)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Export_PlainHttp_KeptConnection(benchmark::State& state) {
  LoopbackCollector collector;
  export_to(state, collector, false, true);
}
BENCHMARK(BM_Export_PlainHttp_KeptConnection)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Export_Https_NewConnection(benchmark::State& state) {
  LoopbackCollector collector(pki().file("server.pem"), pki().file("server.key"));
  export_to(state, collector, true, false);
}
BENCHMARK(BM_Export_Https_NewConnection)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Export_Https_KeptConnection(benchmark::State& state) {
  LoopbackCollector collector(pki().file("server.pem"), pki().file("server.key"));
  export_to(state, collector, true, true);
}
BENCHMARK(BM_Export_Https_KeptConnection)->UseRealTime()->Unit(benchmark::kMicrosecond);

void build_context(benchmark::State& state, const std::string& ca_file) {
  for (auto _ : state) {
    std::optional<tls::ClientTlsError> error;
    auto context = tls::make_client_context({ca_file, "", ""}, error);
    if (!context) state.SkipWithError(error->message.c_str());
    benchmark::DoNotOptimize(context);
  }
}

void BM_ContextBuild_SystemTrustStore(benchmark::State& state) { build_context(state, ""); }
BENCHMARK(BM_ContextBuild_SystemTrustStore)->Unit(benchmark::kMicrosecond);

void BM_ContextBuild_OneCaFile(benchmark::State& state) { build_context(state, pki().file("ca.pem")); }
BENCHMARK(BM_ContextBuild_OneCaFile)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
