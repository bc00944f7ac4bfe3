// libFuzzer target for W3C traceparent / tracestate / baggage parsing. Input: lines separated by '\n'; a line
// starting with 'p' is a traceparent value, 's' a tracestate line, 'b' a baggage line (the rest of the line is
// the value). Invariants: whatever parses serializes to text that parses back to the same value; limits hold
// (32 tracestate members, 64 baggage members / 8192 bytes); our own tracestate entry always goes first.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "telemetry/baggage.h"
#include "telemetry/trace_context.h"

namespace {

using namespace tollway::telemetry;

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void check_traceparent(std::string_view value) {
  const auto parsed = parse_traceparent(value);
  if (!parsed) return;
  FUZZ_CHECK(parsed->version != 0xFF);
  FUZZ_CHECK(parsed->trace_id.valid() && parsed->parent_id.valid());
  const std::string trace_hex = parsed->trace_id.hex(), span_hex = parsed->parent_id.hex();
  FUZZ_CHECK(trace_hex.size() == 32 && is_lower_hex(trace_hex));
  FUZZ_CHECK(span_hex.size() == 16 && is_lower_hex(span_hex));
  SpanContext ctx;
  ctx.trace_id = parsed->trace_id;
  ctx.span_id = parsed->parent_id;
  ctx.flags = parsed->flags;
  const std::string formatted = format_traceparent(ctx);
  const auto again = parse_traceparent(formatted);
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->version == 0);
  FUZZ_CHECK(again->trace_id == parsed->trace_id && again->parent_id == parsed->parent_id);
  FUZZ_CHECK(again->sampled() == parsed->sampled());
  // A version-00 header with only known flags is reproduced byte for byte (after OWS trimming).
  if (parsed->version == 0 && parsed->flags <= 1) {
    std::string_view trimmed = value;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
    FUZZ_CHECK(trimmed == formatted);
  }
  const SpanContext child = child_context(ctx);
  FUZZ_CHECK(child.trace_id == ctx.trace_id && child.span_id != ctx.span_id && child.span_id.valid());
}

void check_tracestate(const std::vector<std::string_view>& lines) {
  const auto state = TraceState::parse(lines);
  if (!state) return;
  FUZZ_CHECK(state->members().size() <= TraceState::kMaxMembers);
  std::set<std::string> keys;
  for (const auto& [k, v] : state->members()) {
    FUZZ_CHECK(TraceState::valid_key(k) && TraceState::valid_value(v));
    FUZZ_CHECK(keys.insert(k).second);
  }
  const std::string text = state->serialize();
  const auto again = TraceState::parse(text);
  FUZZ_CHECK(again && *again == *state);
  const auto updated = state->with_entry_first("tollway", "00f067aa0ba902b7");
  FUZZ_CHECK(updated);
  FUZZ_CHECK(updated->members().size() <= TraceState::kMaxMembers);
  FUZZ_CHECK(updated->members().front().first == "tollway");
  FUZZ_CHECK(updated->serialize().size() <= TraceStateLimits{}.max_bytes);
  const auto reparsed = TraceState::parse(updated->serialize());
  FUZZ_CHECK(reparsed && *reparsed == *updated);
}

void check_baggage(const std::vector<std::string_view>& lines) {
  const BaggageLimits limits;
  const Baggage first = parse_baggage(lines, limits);
  FUZZ_CHECK(first.entries.size() <= limits.max_members);
  const std::string text = serialize_baggage(first.entries, limits);
  FUZZ_CHECK(text.size() <= limits.max_bytes);
  const Baggage second = parse_baggage(text, limits);
  FUZZ_CHECK(second.entries == first.entries);
  FUZZ_CHECK(second.dropped_invalid == 0 && second.dropped_over_limit == 0);
  FUZZ_CHECK(serialize_baggage(second.entries, limits) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> traceparents, tracestates, baggages;
  std::size_t start = 0;
  while (start <= input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    if (!line.empty()) {
      const std::string_view value = line.substr(1);
      if (line[0] == 'p') traceparents.push_back(value);
      else if (line[0] == 's') tracestates.push_back(value);
      else if (line[0] == 'b') baggages.push_back(value);
    }
    start = end + 1;
  }
  for (std::string_view tp : traceparents) check_traceparent(tp);
  check_tracestate(tracestates);
  check_baggage(baggages);
  // The whole input as one header of each kind, too.
  check_traceparent(input);
  check_tracestate({input});
  check_baggage({input});

  const ExtractedTraceContext extracted = extract_trace_context(traceparents, tracestates);
  FUZZ_CHECK(extracted.parent.has_value() == (extracted.traceparent == IncomingTraceparent::Valid));
  if (traceparents.size() > 1) FUZZ_CHECK(extracted.traceparent == IncomingTraceparent::Duplicated);
  if (extracted.tracestate_discarded) FUZZ_CHECK(extracted.parent && extracted.parent->trace_state.empty());
  return 0;
}
