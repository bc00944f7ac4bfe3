#include "sidecar/hop_runtime.h"

#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/version.h"

namespace tollway::sidecar {

void HopRuntime::start_export(const std::optional<config::TelemetryConfig>& telemetry) {
  if (!telemetry) return;
  if (!output) {
    output = std::make_unique<telemetry::TelemetryOutput>(*telemetry, kVersion);
    return;
  }
  const config::TelemetryConfig& running = output->settings();
  if (running.otlp != telemetry->otlp || running.service_name != telemetry->service_name ||
      running.access_log != telemetry->access_log || running.decision_log != telemetry->decision_log)
    log::warn("telemetry export settings changed: they apply at the next restart");
}

void HopRuntime::render_metrics(std::string& out) const {
  namespace prom = core::prometheus;
  prom::family(
      out, "tollway_sidecar_orphan_calls_total", "counter",
      "Outbound calls without trace context while inbound requests were in flight, by what the sidecar "
      "did (logged the likely parent, or repaired the trace).");
  prom::sample(out, "tollway_sidecar_orphan_calls_total", prom::labels({{"action", "logged"}}),
               counters.orphans_logged.load());
  prom::sample(out, "tollway_sidecar_orphan_calls_total", prom::labels({{"action", "repaired"}}),
               counters.orphans_repaired.load());
  prom::family(out, "tollway_sidecar_hop_limit_total", "counter",
               "Inbound calls refused with 508 because their hop count exceeded max_hops.");
  prom::sample(out, "tollway_sidecar_hop_limit_total", "", counters.hop_limit_refused.load());
  prom::family(
      out, "tollway_sidecar_fanout_refusals_total", "counter",
      "Calls refused for their tollway-fanout baggage member, by reason (invalid: forged, malformed or "
      "expired; exhausted: the tree's budget was reported spent).");
  prom::sample(out, "tollway_sidecar_fanout_refusals_total", prom::labels({{"reason", "invalid"}}),
               counters.fanout_invalid.load());
  prom::sample(out, "tollway_sidecar_fanout_refusals_total", prom::labels({{"reason", "exhausted"}}),
               counters.fanout_exhausted.load());
  prom::family(
      out, "tollway_sidecar_fanout_exhausted_roots", "gauge",
      "Fan-out trees remembered as spent (an upstream answered 429 fanout_budget_exceeded), until expiry.");
  prom::sample(out, "tollway_sidecar_fanout_exhausted_roots", "", exhausted_roots.size());
  prom::family(out, "tollway_sidecar_inbound_in_flight", "gauge", "Inbound requests being served right now.");
  prom::sample(out, "tollway_sidecar_inbound_in_flight", "", in_flight.size());
  if (output) output->render_metrics(out);
}

}  // namespace tollway::sidecar
