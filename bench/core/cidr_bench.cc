// Cost of the trust decision by peer address (telemetry.tracing.trust_incoming: {peers: [...]}) per request, next
// to a reference measured in the same run:
//   BM_PeerInMeshList        a peer matched by the last of six networks (an Istio-like list: the RFC 1918 ranges,
//                            ULA, loopbacks), so every network is compared
//   BM_PeerInNoNetwork       an IPv6 peer in none of them (the untrusted case, also a full scan)
//   BM_ParseTraceparent      reference: the strict W3C parse of one traceparent, which the same phase does for
//                            every request that carries one
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "telemetry/trace_context.h"

using namespace tollway;

namespace {

std::vector<core::Cidr> mesh_networks() {
  std::vector<core::Cidr> out;
  for (const char* text : {"10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "::1/128", "127.0.0.1/32", "192.168.0.0/16"}) {
    std::string error;
    out.push_back(*core::Cidr::parse(text, error));
  }
  return out;
}

void run_match(benchmark::State& state, const char* peer_text) {
  const auto networks = mesh_networks();
  const core::IpAddress peer = *core::IpAddress::parse(peer_text);
  for (auto _ : state) {
    const core::IpAddress* p = &peer;
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(core::any_contains(networks, *p));
  }
}

void BM_PeerInMeshList(benchmark::State& state) { run_match(state, "192.168.7.9"); }
void BM_PeerInNoNetwork(benchmark::State& state) { run_match(state, "2001:db8::7"); }

void BM_ParseTraceparent(benchmark::State& state) {
  const std::array<std::string_view, 1> parent = {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
  for (auto _ : state) {
    auto values = std::span<const std::string_view>(parent);
    benchmark::DoNotOptimize(values);
    benchmark::DoNotOptimize(telemetry::extract_trace_context(values, {}));
  }
}

}  // namespace

BENCHMARK(BM_PeerInMeshList);
BENCHMARK(BM_PeerInNoNetwork);
BENCHMARK(BM_ParseTraceparent);
BENCHMARK_MAIN();
