// HopRuntime: the sidecar's process-lifetime tracing and runaway-protection state, shared by every snapshot's
// HopTrace filter and every worker: the in-flight registry, the spent fan-out roots, the span exporter (built
// with the first document that has a `telemetry` section) and the counters /metrics shows. It holds no
// per-request state and never blocks a request on anything but its short mutexes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sidecar/hop_fanout.h"
#include "sidecar/hop_registry.h"
#include "telemetry/telemetry_output.h"

namespace tollway::sidecar {

struct HopCounters {
  std::atomic<uint64_t> orphans_logged{0}, orphans_repaired{0};
  std::atomic<uint64_t> hop_limit_refused{0};
  std::atomic<uint64_t> fanout_invalid{0}, fanout_exhausted{0};
};

struct HopRuntime {
  InFlightRegistry in_flight;
  ExhaustedFanoutRoots exhausted_roots;
  HopCounters counters;
  std::unique_ptr<telemetry::TelemetryOutput> output;  // null: no `telemetry` section (no spans, no threads)

  // Control thread, at each commit: builds the exporter from the first `telemetry` section seen; its settings
  // are restart-only (a later different section is logged and not applied, as in the gateway).
  void start_export(const std::optional<config::TelemetryConfig>& telemetry);
  // Appends the orphan, hop-limit and fan-out series (and the exporter's, once built) to `out`.
  void render_metrics(std::string& out) const;
};

}  // namespace tollway::sidecar
