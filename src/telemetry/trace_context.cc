#include "telemetry/trace_context.h"

#include <algorithm>
#include <random>

namespace tollway::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Value of a lowercase hex digit, or -1 (uppercase is not HEXDIGLC).
constexpr std::array<int8_t, 256> kLowerHexValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (int c = '0'; c <= '9'; ++c) values[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) values[c] = static_cast<int8_t>(c - 'a' + 10);
  return values;
}();

int lower_hex_value(char c) { return kLowerHexValues[static_cast<unsigned char>(c)]; }

template <std::size_t N>
bool decode_lower_hex(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  int invalid = 0;  // any -1 sets the sign bit: one test after the loop
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = lower_hex_value(text[2 * i]);
    const int lo = lower_hex_value(text[2 * i + 1]);
    invalid |= hi | lo;
    out[i] = static_cast<uint8_t>(static_cast<unsigned>(hi) << 4 | static_cast<unsigned>(lo));
  }
  return invalid >= 0;
}

template <std::size_t N>
void write_hex(char* out, const std::array<uint8_t, N>& bytes) {
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xF];
  }
}

template <std::size_t N>
std::string encode_hex(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  write_hex(out.data(), bytes);
  return out;
}

template <std::size_t N>
bool any_nonzero(const std::array<uint8_t, N>& bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b != 0; });
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Per-thread generator, seeded once from the OS. Ids need to be unpredictable enough not to collide, not secret.
std::mt19937_64& id_engine() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return engine;
}

template <std::size_t N>
void fill_random_nonzero(std::array<uint8_t, N>& bytes) {
  auto& engine = id_engine();
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      uint64_t word = engine();
      for (std::size_t k = 0; k < 8 && i + k < N; ++k) bytes[i + k] = static_cast<uint8_t>(word >> (8 * k));
    }
  } while (!any_nonzero(bytes));
}

// keychar of the Level 1 grammar (without '@').
bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' || c == '/';
}
bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool is_nonblank_value_char(char c) { return c >= 0x21 && c <= 0x7E && c != ',' && c != '='; }

// One member "key=value" (already trimmed of OWS, non-empty).
bool split_member(std::string_view member, std::string_view& key, std::string_view& value) {
  const std::size_t eq = member.find('=');
  if (eq == std::string_view::npos) return false;
  key = member.substr(0, eq);
  value = member.substr(eq + 1);
  return TraceState::valid_key(key) && TraceState::valid_value(value);
}

std::size_t serialized_size(const std::vector<std::pair<std::string, std::string>>& members) {
  std::size_t size = members.empty() ? 0 : members.size() - 1;  // commas
  for (const auto& [k, v] : members) size += k.size() + 1 + v.size();
  return size;
}

}  // namespace

bool TraceId::valid() const { return any_nonzero(bytes); }
std::string TraceId::hex() const { return encode_hex(bytes); }
void TraceId::write_hex(char* out) const { telemetry::write_hex(out, bytes); }
std::optional<TraceId> TraceId::from_hex(std::string_view text) {
  TraceId id;
  if (!decode_lower_hex(text, id.bytes) || !id.valid()) return std::nullopt;
  return id;
}

bool SpanId::valid() const { return any_nonzero(bytes); }
std::string SpanId::hex() const { return encode_hex(bytes); }
void SpanId::write_hex(char* out) const { telemetry::write_hex(out, bytes); }
std::optional<SpanId> SpanId::from_hex(std::string_view text) {
  SpanId id;
  if (!decode_lower_hex(text, id.bytes) || !id.valid()) return std::nullopt;
  return id;
}

TraceId generate_trace_id() {
  TraceId id;
  fill_random_nonzero(id.bytes);
  return id;
}

SpanId generate_span_id() {
  SpanId id;
  fill_random_nonzero(id.bytes);
  return id;
}

std::optional<TraceParent> parse_traceparent(std::string_view value) {
  value = trim_ows(value);
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  constexpr std::size_t kV0Size = 55;
  if (value.size() < 3 || value[2] != '-') return std::nullopt;
  const int v_hi = lower_hex_value(value[0]);
  const int v_lo = lower_hex_value(value[1]);
  if (v_hi < 0 || v_lo < 0) return std::nullopt;
  TraceParent parsed;
  parsed.version = static_cast<uint8_t>(v_hi << 4 | v_lo);
  if (parsed.version == 0xFF) return std::nullopt;
  if (value.size() < kV0Size) return std::nullopt;
  if (parsed.version == 0x00 && value.size() != kV0Size) return std::nullopt;
  // A higher version may append fields, but only after a '-'.
  if (value.size() > kV0Size && value[kV0Size] != '-') return std::nullopt;
  if (value[35] != '-' || value[52] != '-') return std::nullopt;
  if (!decode_lower_hex(value.substr(3, 32), parsed.trace_id.bytes)) return std::nullopt;
  if (!decode_lower_hex(value.substr(36, 16), parsed.parent_id.bytes)) return std::nullopt;
  std::array<uint8_t, 1> flags{};
  if (!decode_lower_hex(value.substr(53, 2), flags)) return std::nullopt;
  parsed.flags = flags[0];
  if (!parsed.trace_id.valid() || !parsed.parent_id.valid()) return std::nullopt;
  return parsed;
}

bool TraceState::valid_key(std::string_view key) {
  const std::size_t at = key.find('@');
  if (at == std::string_view::npos) {
    // simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
    if (key.empty() || key.size() > 256 || !is_lcalpha(key[0])) return false;
    return std::all_of(key.begin() + 1, key.end(), is_key_char);
  }
  // multi-tenant-key = tenant-id "@" system-id
  // tenant-id = ( lcalpha / DIGIT ) 0*240( keychar ); system-id = lcalpha 0*13( keychar )
  const std::string_view tenant = key.substr(0, at);
  const std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(is_lcalpha(tenant[0]) || is_digit(tenant[0]))) return false;
  if (system.empty() || system.size() > 14 || !is_lcalpha(system[0])) return false;
  return std::all_of(tenant.begin() + 1, tenant.end(), is_key_char) &&
         std::all_of(system.begin() + 1, system.end(), is_key_char);
}

bool TraceState::valid_value(std::string_view value) {
  // value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr
  if (value.empty() || value.size() > 256 || !is_nonblank_value_char(value.back())) return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return c == ' ' || is_nonblank_value_char(c); });
}

std::optional<TraceState> TraceState::parse(std::span<const std::string_view> header_values) {
  TraceState state;
  for (std::string_view header : header_values) {
    // Splitting each line on ',' is the same as splitting the lines joined with ','.
    while (true) {
      const std::size_t comma = header.find(',');
      const std::string_view member = trim_ows(header.substr(0, comma));
      if (!member.empty()) {
        std::string_view key, value;
        if (!split_member(member, key, value)) return std::nullopt;
        if (state.get(key)) return std::nullopt;  // duplicated key
        if (state.members_.size() == kMaxMembers) return std::nullopt;
        state.members_.emplace_back(std::string(key), std::string(value));
      }
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
  }
  return state;
}

std::optional<TraceState> TraceState::parse(std::string_view header_value) {
  return parse(std::span<const std::string_view>(&header_value, 1));
}

std::optional<std::string_view> TraceState::get(std::string_view key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

std::string TraceState::serialize() const {
  std::string out;
  out.reserve(serialized_size(members_));
  for (const auto& [k, v] : members_) {
    if (!out.empty()) out.push_back(',');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::optional<TraceState> TraceState::with_entry_first(std::string_view key, std::string_view value,
                                                       TraceStateLimits limits) const {
  if (!valid_key(key) || !valid_value(value)) return std::nullopt;
  const std::size_t max_members = std::min(limits.max_members, kMaxMembers);
  if (max_members == 0 || key.size() + 1 + value.size() > limits.max_bytes) return std::nullopt;
  TraceState out;
  out.members_.reserve(members_.size() + 1);
  out.members_.emplace_back(std::string(key), std::string(value));
  for (const auto& member : members_)
    if (member.first != key) out.members_.push_back(member);
  auto& m = out.members_;
  while (m.size() > max_members || serialized_size(m) > limits.max_bytes) {
    // Entries longer than 128 characters go first (rightmost first), then entries from the right.
    std::size_t victim = m.size() - 1;
    for (std::size_t i = m.size() - 1; i >= 1; --i) {
      if (m[i].first.size() + 1 + m[i].second.size() > 128) {
        victim = i;
        break;
      }
    }
    m.erase(m.begin() + static_cast<std::ptrdiff_t>(victim));
  }
  return out;
}

std::string_view to_string(IncomingTraceparent status) {
  switch (status) {
    case IncomingTraceparent::Absent: return "absent";
    case IncomingTraceparent::Valid: return "valid";
    case IncomingTraceparent::Invalid: return "invalid";
    case IncomingTraceparent::Duplicated: return "duplicated";
  }
  return "unknown";
}

ExtractedTraceContext extract_trace_context(std::span<const std::string_view> traceparent_values,
                                            std::span<const std::string_view> tracestate_values) {
  ExtractedTraceContext out;
  if (traceparent_values.empty()) return out;
  if (traceparent_values.size() > 1) {
    out.traceparent = IncomingTraceparent::Duplicated;
    return out;
  }
  const auto parsed = parse_traceparent(traceparent_values[0]);
  if (!parsed) {
    out.traceparent = IncomingTraceparent::Invalid;
    return out;
  }
  out.traceparent = IncomingTraceparent::Valid;
  SpanContext parent;
  parent.trace_id = parsed->trace_id;
  parent.span_id = parsed->parent_id;
  parent.flags = parsed->flags;
  parent.remote = true;
  if (!tracestate_values.empty()) {
    if (auto state = TraceState::parse(tracestate_values))
      parent.trace_state = std::move(*state);
    else
      out.tracestate_discarded = true;
  }
  out.parent = std::move(parent);
  return out;
}

SpanContext new_root_context(bool sampled) {
  SpanContext context;
  context.trace_id = generate_trace_id();
  context.span_id = generate_span_id();
  context.flags = sampled ? kTraceFlagSampled : 0;
  return context;
}

SpanContext child_context(const SpanContext& parent) { return child_context(parent, parent.sampled()); }

SpanContext child_context(const SpanContext& parent, bool sampled) {
  SpanContext child;
  child.trace_id = parent.trace_id;
  do {
    child.span_id = generate_span_id();
  } while (child.span_id == parent.span_id);
  child.flags = sampled ? kTraceFlagSampled : 0;
  child.trace_state = parent.trace_state;
  return child;
}

std::optional<std::string> TraceState::serialize_with_entry_first(std::string_view key, std::string_view value,
                                                                 TraceStateLimits limits) const {
  if (!members_.empty()) {
    const auto state = with_entry_first(key, value, limits);
    return state ? std::optional<std::string>(state->serialize()) : std::nullopt;
  }
  if (!valid_key(key) || !valid_value(value) || limits.max_members == 0 ||
      key.size() + 1 + value.size() > limits.max_bytes)
    return std::nullopt;
  std::string out;
  out.reserve(key.size() + 1 + value.size());
  out.append(key).append(1, '=').append(value);
  return out;
}

std::string format_traceparent(const SpanContext& context) {
  std::string out = "00-________________________________-________________-00";  // one allocation, filled in place
  context.trace_id.write_hex(out.data() + 3);
  context.span_id.write_hex(out.data() + 36);
  if (context.sampled()) out[54] = '1';
  return out;
}

}  // namespace tollway::telemetry
