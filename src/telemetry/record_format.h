// The log lines a RequestRecord becomes: one access log line, and one decision log line for a denial. Pure
// functions run on the telemetry thread, appending to the caller's buffer (no string per line); they never
// log header values or credentials (a record carries none). The request's spans: span_json.h.
#pragma once

#include <cstdint>

#include "core/text_buffer.h"
#include "telemetry/request_record.h"

namespace tollway::telemetry {

// Appends {"ts":...,"type":"access",...} without a trailing newline.
void append_access_log_line(TextBuffer& out, const RequestRecord& r);
// Appends {"ts":...,"type":"decision",...} for a denied request (r.denied), without a trailing newline.
void append_decision_log_line(TextBuffer& out, const RequestRecord& r);

// Appends "2026-12-01T08:51:23.123Z".
void append_iso_time_millis(TextBuffer& out, uint64_t unix_nano);

}  // namespace tollway::telemetry
