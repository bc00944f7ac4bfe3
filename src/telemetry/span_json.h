// The spans of one finished request as OTLP JSON Span objects, written straight from its RequestRecord: a
// SERVER span for the request, then a CLIENT span per upstream attempt (retries and fallbacks visible),
// children of the SERVER span (a sidecar hop's record: its one span, CLIENT for an outbound call). No
// intermediate span or attribute objects: this runs on the telemetry thread for every sampled request, and its
// cost is the observability budget. Never emits invalid JSON for any record (every string goes through
// core/json.h's escaping); never reads a clock or does I/O. The frame around the spans: otlp_json.h.
#pragma once

#include <cstddef>
#include "core/text_buffer.h"
#include "telemetry/request_record.h"

namespace tollway::telemetry {

// How many spans append_request_spans writes for `r`.
inline std::size_t span_count(const RequestRecord& r) {
  return 1 + r.upstream_attempts.size() + r.rpc_operations.size();
}

// Appends r's spans to `out`, each preceded by ',' unless `first` (the first span of a batch); returns how
// many.
std::size_t append_request_spans(TextBuffer& out, const RequestRecord& r, bool first);

}  // namespace tollway::telemetry
