// W3C Baggage (https://www.w3.org/TR/baggage/): parsing and serialising the `baggage` header, with
// percent-decoded values, opaque properties, and the spec's propagation limits. Pure functions: no I/O, no Boost,
// safe for any input bytes (fuzzed). Never rejects a whole header for one bad member: a malformed list-member is
// dropped and counted (the spec lets a receiver remove it), and members beyond the limits are dropped and counted.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::telemetry {

struct BaggageProperty {
  std::string key;                   // token
  std::optional<std::string> value;  // raw baggage-octets (opaque, not decoded); nullopt for `;key`
  bool operator==(const BaggageProperty&) const = default;
};

struct BaggageEntry {
  std::string key;    // token (RFC 7230 tchar+)
  std::string value;  // percent-decoded, valid UTF-8
  std::vector<BaggageProperty> properties;
  bool operator==(const BaggageEntry&) const = default;
};

// The spec's minimums a platform MUST propagate; we propagate exactly these by default.
struct BaggageLimits {
  std::size_t max_members = 64;
  std::size_t max_bytes = 8192;  // of the serialized baggage-string, commas included
};

struct Baggage {
  std::vector<BaggageEntry> entries;
  std::size_t dropped_invalid = 0;     // malformed list-members
  std::size_t dropped_over_limit = 0;  // well-formed members beyond max_members / max_bytes
};

// Parses all `baggage` header lines (combined as RFC 7230 says: joined with ','). OWS around keys, values,
// properties and members is trimmed; empty members are skipped. Members are kept in order while the canonical
// serialization of those kept stays within `limits`, so serialize_baggage(parse_baggage(x).entries) parses back
// to the same entries.
Baggage parse_baggage(std::span<const std::string_view> header_values, BaggageLimits limits = {});
Baggage parse_baggage(std::string_view header_value, BaggageLimits limits = {});

// "k1=v1;p1;p2=x,k2=v2": values percent-encoded (everything but RFC 3986 unreserved characters), no OWS.
// Entries with an invalid key or property are skipped; stops before exceeding `limits`.
std::string serialize_baggage(std::span<const BaggageEntry> entries, BaggageLimits limits = {});

// Percent-encoding of a baggage value: RFC 3986 unreserved characters stay, every other byte becomes %XX.
std::string percent_encode_baggage_value(std::string_view value);
// Decodes %XX escapes; octets that are not UTF-8 become U+FFFD (each maximal invalid subpart one U+FFFD), as the
// spec requires. nullopt when the text has a character outside baggage-octet or a malformed escape.
std::optional<std::string> percent_decode_baggage_value(std::string_view text);

bool is_baggage_token(std::string_view key);  // RFC 7230 token: 1*tchar

}  // namespace tollway::telemetry
