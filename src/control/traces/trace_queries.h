// TraceQueries: what GET /v1/traces and GET /v1/traces/{trace_id} answer (docs/control-plane.md, "Traces"): a
// trace's summary (root name, start, duration, span count, services, hop count, orphan / repaired / parent-missing
// and error span counts) and its spans ordered for a waterfall (each parent before its children, children by start)
// with depth, offsets, durations and self time — the per-hop latency: the span's duration minus the time covered
// by at least one of its children (their intervals clipped to the span and merged, so parallel children count
// once). Reads the window only; never changes it, never reads a clock.
#pragma once

#include <cstddef>
#include <string>

#include "control/traces/trace_window.h"

namespace tollway::control::traces {

// {max_spans, spans_held, traces_held, traces: [summary, ...]}: the `limit` latest-starting traces, newest first.
std::string trace_list_json(const TraceWindow& window, std::size_t limit);

// summary + {spans: [...]} in waterfall order.
std::string trace_json(const WindowTrace& trace);

}  // namespace tollway::control::traces
