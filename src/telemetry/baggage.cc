#include "telemetry/baggage.h"

#include <algorithm>
#include <cstdint>

namespace tollway::telemetry {
namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool is_baggage_octet(char c) {
  return c >= 0x21 && c <= 0x7E && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends `bytes` as UTF-8, each maximal subpart of an invalid sequence replaced by U+FFFD (the Unicode
// standard's "U+FFFD substitution of maximal subparts", as the WHATWG Encoding decoder does).
void append_replacing_invalid_utf8(std::string_view bytes, std::string& out) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    if (b0 < 0x80) {
      out.push_back(bytes[i++]);
      continue;
    }
    std::size_t length = 0;
    unsigned char lower = 0x80, upper = 0xBF;  // the range of the next continuation byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) lower = 0xA0;  // no overlong forms
      if (b0 == 0xED) upper = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) lower = 0x90;  // no overlong forms
      if (b0 == 0xF4) upper = 0x8F;  // nothing above U+10FFFF
    } else {
      out.append(kReplacement);
      ++i;
      continue;
    }
    std::size_t seen = 1;
    while (seen < length && i + seen < bytes.size()) {
      const auto b = static_cast<unsigned char>(bytes[i + seen]);
      if (b < lower || b > upper) break;
      lower = 0x80;
      upper = 0xBF;
      ++seen;
    }
    if (seen == length) out.append(bytes.substr(i, length));
    else out.append(kReplacement);
    i += seen;
  }
}

bool valid_property_value(std::string_view v) { return std::all_of(v.begin(), v.end(), is_baggage_octet); }

std::size_t encoded_value_size(std::string_view value) {
  std::size_t n = 0;
  for (char c : value) n += is_unreserved(static_cast<unsigned char>(c)) ? 1 : 3;
  return n;
}

// Size of the entry in serialize_baggage's output, or 0 if it cannot be serialized.
std::size_t serialized_entry_size(const BaggageEntry& e) {
  if (!is_baggage_token(e.key)) return 0;
  std::size_t n = e.key.size() + 1 + encoded_value_size(e.value);
  for (const auto& p : e.properties) {
    if (!is_baggage_token(p.key)) return 0;
    n += 1 + p.key.size();
    if (p.value) {
      if (!valid_property_value(*p.value)) return 0;
      n += 1 + p.value->size();
    }
  }
  return n;
}

std::optional<BaggageEntry> parse_member(std::string_view member) {
  // member = key OWS "=" OWS value *( OWS ";" OWS property ); no ';' can occur inside a key or value.
  std::size_t semicolon = member.find(';');
  const std::string_view key_value = member.substr(0, semicolon);
  const std::size_t eq = key_value.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view key = trim_ows(key_value.substr(0, eq));
  if (!is_baggage_token(key)) return std::nullopt;
  auto value = percent_decode_baggage_value(trim_ows(key_value.substr(eq + 1)));
  if (!value) return std::nullopt;
  BaggageEntry entry;
  entry.key = std::string(key);
  entry.value = std::move(*value);
  std::string_view rest = semicolon == std::string_view::npos ? std::string_view() : member.substr(semicolon + 1);
  while (semicolon != std::string_view::npos) {
    semicolon = rest.find(';');
    const std::string_view property = rest.substr(0, semicolon);
    if (semicolon != std::string_view::npos) rest.remove_prefix(semicolon + 1);
    // property = key OWS "=" OWS value / key OWS
    const std::size_t peq = property.find('=');
    const std::string_view pkey = trim_ows(property.substr(0, peq));
    if (!is_baggage_token(pkey)) return std::nullopt;
    BaggageProperty p;
    p.key = std::string(pkey);
    if (peq != std::string_view::npos) {
      const std::string_view pvalue = trim_ows(property.substr(peq + 1));
      if (!valid_property_value(pvalue)) return std::nullopt;
      p.value = std::string(pvalue);
    }
    entry.properties.push_back(std::move(p));
  }
  return entry;
}

}  // namespace

bool is_baggage_token(std::string_view key) { return !key.empty() && std::all_of(key.begin(), key.end(), is_tchar); }

std::string percent_encode_baggage_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(encoded_value_size(value));
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if (is_unreserved(b)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode_baggage_value(std::string_view text) {
  std::string bytes;
  bytes.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!is_baggage_octet(c)) return std::nullopt;
    if (c != '%') {
      bytes.push_back(c);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  // W3C Baggage, value: "percent-encoded octet sequences that do not match the UTF-8 encoding scheme MUST be
  // replaced with the replacement code point (U+FFFD)".
  std::string out;
  out.reserve(bytes.size());
  append_replacing_invalid_utf8(bytes, out);
  return out;
}

Baggage parse_baggage(std::span<const std::string_view> header_values, BaggageLimits limits) {
  Baggage baggage;
  std::size_t used_bytes = 0;
  for (std::string_view header : header_values) {
    while (true) {
      const std::size_t comma = header.find(',');
      const std::string_view member = trim_ows(header.substr(0, comma));
      if (!member.empty()) {
        auto entry = parse_member(member);
        if (!entry) {
          ++baggage.dropped_invalid;
        } else {
          const std::size_t size = serialized_entry_size(*entry) + (baggage.entries.empty() ? 0 : 1);
          if (baggage.entries.size() >= limits.max_members || used_bytes + size > limits.max_bytes) {
            ++baggage.dropped_over_limit;
          } else {
            used_bytes += size;
            baggage.entries.push_back(std::move(*entry));
          }
        }
      }
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
  }
  return baggage;
}

Baggage parse_baggage(std::string_view header_value, BaggageLimits limits) {
  return parse_baggage(std::span<const std::string_view>(&header_value, 1), limits);
}

std::string serialize_baggage(std::span<const BaggageEntry> entries, BaggageLimits limits) {
  std::string out;
  std::size_t count = 0;
  for (const auto& e : entries) {
    const std::size_t entry_size = serialized_entry_size(e);
    if (entry_size == 0) continue;
    const std::size_t size = entry_size + (count == 0 ? 0 : 1);
    if (count >= limits.max_members || out.size() + size > limits.max_bytes) continue;
    if (count++ != 0) out.push_back(',');
    out += e.key;
    out.push_back('=');
    out += percent_encode_baggage_value(e.value);
    for (const auto& p : e.properties) {
      out.push_back(';');
      out += p.key;
      if (p.value) {
        out.push_back('=');
        out += *p.value;
      }
    }
  }
  return out;
}

}  // namespace tollway::telemetry
