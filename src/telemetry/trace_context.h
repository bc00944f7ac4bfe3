// W3C Trace Context (https://www.w3.org/TR/trace-context/, Level 1 REC grammar; Level 2 only adds flags we do
// not emit): strict parsing of `traceparent` and `tracestate`, trace/span id generation, child contexts and the
// headers we send upstream. Pure functions and values: no I/O, no allocation beyond the returned strings, no
// Boost, safe for any input bytes (fuzzed). Never trusts an incoming header it could not parse completely:
// an invalid or duplicated traceparent means "start a new trace", an invalid tracestate means "no tracestate".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollway::telemetry {

// 16-byte trace id; all zeroes is the invalid value.
struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool valid() const;
  std::string hex() const;  // 32 lowercase hex digits
  static constexpr std::size_t kHexLength = 32;
  void write_hex(char* out) const;  // the same, at out[0..32)
  // Strict: exactly 32 lowercase hex digits, not all zero.
  static std::optional<TraceId> from_hex(std::string_view text);
  bool operator==(const TraceId&) const = default;
};

// 8-byte span id (the traceparent's parent-id); all zeroes is the invalid value.
struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool valid() const;
  std::string hex() const;  // 16 lowercase hex digits
  static constexpr std::size_t kHexLength = 16;
  void write_hex(char* out) const;  // the same, at out[0..16)
  static std::optional<SpanId> from_hex(std::string_view text);
  bool operator==(const SpanId&) const = default;
};

// Random, never all-zero ids from a per-thread generator seeded by the OS (std::random_device).
TraceId generate_trace_id();
SpanId generate_span_id();

inline constexpr uint8_t kTraceFlagSampled = 0x01;

// One parsed traceparent header value.
struct TraceParent {
  uint8_t version = 0;  // as received; we always answer with version 00
  TraceId trace_id;
  SpanId parent_id;
  uint8_t flags = 0;  // as received, all 8 bits
  bool sampled() const { return (flags & kTraceFlagSampled) != 0; }
};

// Parses one traceparent value. Leading/trailing SP and HTAB are ignored (HTTP OWS). Version 00 must be exactly
// `00-<32 hex>-<16 hex>-<2 hex>`; versions 01..fe are parsed by the spec's forward-compatibility rule (at least 55
// characters, the same first four fields, then end of string or '-'); version ff, uppercase hex, all-zero ids and
// any other deviation yield nullopt.
std::optional<TraceParent> parse_traceparent(std::string_view value);

// Limits applied when we add our own entry to a tracestate.
struct TraceStateLimits {
  std::size_t max_members = 32;  // the spec's hard limit
  std::size_t max_bytes = 512;   // the spec asks to propagate at least 512 characters; we propagate at most this
};

// tracestate: an ordered list of vendor key/value pairs, leftmost = most recent.
class TraceState {
 public:
  static constexpr std::size_t kMaxMembers = 32;

  TraceState() = default;

  // Combines all header lines (RFC 7230 field order: joined with ',') and parses the list. Empty and
  // whitespace-only members are skipped. nullopt when any member is malformed, a key repeats, or there are more
  // than 32 members: the caller then proceeds with no tracestate.
  static std::optional<TraceState> parse(std::span<const std::string_view> header_values);
  static std::optional<TraceState> parse(std::string_view header_value);

  static bool valid_key(std::string_view key);    // simple-key or tenant@system multi-tenant key
  static bool valid_value(std::string_view value);  // 1..256 printable chars, no ',' '=', last not space

  const std::vector<std::pair<std::string, std::string>>& members() const { return members_; }
  bool empty() const { return members_.empty(); }
  std::optional<std::string_view> get(std::string_view key) const;

  // "k1=v1,k2=v2" (no optional whitespace); "" when empty.
  std::string serialize() const;

  // A copy with `key=value` first (any previous entry for `key` removed), then truncated to `limits` by the
  // spec's rule: whole entries only, entries longer than 128 characters first (rightmost first), then from the
  // right. Our own entry is never removed. nullopt if key or value is invalid or our entry alone exceeds limits.
  std::optional<TraceState> with_entry_first(std::string_view key, std::string_view value,
                                             TraceStateLimits limits = {}) const;
  // with_entry_first(...) serialized: the header value to send. Without members (the common case: the caller
  // sent no tracestate) it is written directly, with no intermediate state.
  std::optional<std::string> serialize_with_entry_first(std::string_view key, std::string_view value,
                                                        TraceStateLimits limits = {}) const;

  bool operator==(const TraceState&) const = default;

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

// The context of one span as propagated: what traceparent + tracestate carry.
struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t flags = 0;
  TraceState trace_state;
  bool remote = false;  // extracted from a request rather than created here
  bool sampled() const { return (flags & kTraceFlagSampled) != 0; }
  bool valid() const { return trace_id.valid() && span_id.valid(); }
};

// Why an incoming request has (or has not) a usable parent; the gateway counts these.
enum class IncomingTraceparent {
  Absent,      // no traceparent header
  Valid,       // exactly one header, parsed
  Invalid,     // exactly one header, malformed
  Duplicated,  // two or more traceparent headers: ambiguous, restart the trace
};
std::string_view to_string(IncomingTraceparent status);

struct ExtractedTraceContext {
  std::optional<SpanContext> parent;  // set only when traceparent is Valid
  IncomingTraceparent traceparent = IncomingTraceparent::Absent;
  bool tracestate_discarded = false;  // a tracestate was sent with a valid traceparent but failed to parse
};

// Applies the spec's receive rules to all values of the request's traceparent and tracestate headers (names
// matched case-insensitively by the caller). tracestate is looked at only when traceparent is Valid.
ExtractedTraceContext extract_trace_context(std::span<const std::string_view> traceparent_values,
                                            std::span<const std::string_view> tracestate_values);

// A new root: fresh trace id and span id, sampled flag as decided, empty tracestate.
SpanContext new_root_context(bool sampled);
// A child: same trace id and tracestate, new span id, sampled flag kept from the parent, not remote.
SpanContext child_context(const SpanContext& parent);
// A child whose sampled flag is our own decision (the sampler's), e.g. for the gateway's SERVER span.
SpanContext child_context(const SpanContext& parent, bool sampled);

// `00-<trace-id>-<span-id>-<flags>` with only the sampled bit (the spec tells us to zero unknown flags).
std::string format_traceparent(const SpanContext& context);

}  // namespace tollway::telemetry
