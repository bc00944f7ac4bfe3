// HopState: a sidecar hop's runaway state, a pipeline::FeatureStates entry written by sidecar::HopTrace
// (authorize phase). Its span is the request's telemetry::TraceInfo server span (SERVER inbound, CLIENT
// outbound). The hop count here is the sidecars' own, never the agent's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace tollway::sidecar {

struct HopState {
  uint32_t hops = 0;      // inbound: the count the caller's sidecar sent; outbound: the count sent to the peer
  bool orphan = false;    // an outbound call without trace context while inbound requests were in flight
  bool repaired = false;  // an orphan call continued the trace of the one inbound request in flight
  std::string fanout_root;  // the verified tollway-fanout grant's root ("" when none)
  int64_t fanout_expires_s = 0;
  std::shared_ptr<void> in_flight;  // inbound: the request's entry in the in-flight registry, left on release
};

}  // namespace tollway::sidecar
