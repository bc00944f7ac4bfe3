// What a RequestRecord becomes: one access log line, one decision log line (denials), and the request's spans
// (one SERVER span, one CLIENT span per upstream attempt, parented to the SERVER span). Pure functions run on the
// telemetry thread; they never log header values or credentials (a record carries none), and prompt or
// completion content only when the record holds it (telemetry.tracing.capture_content).
#pragma once

#include <string>
#include <vector>

#include "telemetry/request_record.h"
#include "telemetry/span.h"

namespace tollway::telemetry {

// {"ts":...,"type":"access",...} without a trailing newline.
std::string access_log_line(const RequestRecord& r);
// {"ts":...,"type":"decision",...} for a denied request (r.denied), without a trailing newline.
std::string decision_log_line(const RequestRecord& r);
// Appends the SERVER span and the CLIENT spans of a sampled request.
void append_spans(const RequestRecord& r, std::vector<Span>& out);

// "2026-12-01T08:51:23.123Z"
std::string iso_time_millis(uint64_t unix_nano);

}  // namespace tollway::telemetry
