#include "http/message.h"

#include <cstdint>
#include <cstring>

namespace tollway::http {

namespace {

// Eight bytes with 'A'..'Z' turned into 'a'..'z' and every other byte (incl. 0x80..0xff) unchanged: per byte,
// the high bit of heptet + (0x80 - 'A') says ">= 'A'", of heptet + (0x80 - 'Z' - 1) says "> 'Z'" (no carry
// crosses a byte: a heptet is at most 0x7f), and 0x80 >> 2 is the 0x20 that lowers a letter.
uint64_t ascii_lower_8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t heptets = x & ~kHigh;
  const uint64_t at_least_a = heptets + (0x80 - 'A') * kOnes;
  const uint64_t above_z = heptets + (0x80 - 'Z' - 1) * kOnes;
  const uint64_t upper = at_least_a & ~above_z & ~x & kHigh;
  return x | (upper >> 2);
}

uint64_t load_8(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

constexpr unsigned char ascii_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (iequals(header.name, name)) return header.value;
  }
  return std::nullopt;
}

bool is_optional_whitespace(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_optional_whitespace(std::string_view text) {
  while (!text.empty() && is_optional_whitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_optional_whitespace(text.back())) text.remove_suffix(1);
  return text;
}

// True when `name` appears as a comma-separated element of `list`.
bool list_contains(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_optional_whitespace(list.substr(0, comma));
    if (iequals(element, name)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool iequals_same_size(const char* a, const char* b, std::size_t size) {
  if (size >= 8) {  // eight bytes at a time; the last word may overlap the one before
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8)
      if (ascii_lower_8(load_8(a + i)) != ascii_lower_8(load_8(b + i))) return false;
    return i == size || ascii_lower_8(load_8(a + size - 8)) == ascii_lower_8(load_8(b + size - 8));
  }
  for (std::size_t i = 0; i < size; ++i) {
    if (ascii_lower(static_cast<unsigned char>(a[i])) != ascii_lower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

HopByHop::HopByHop(const std::vector<Header>& headers) {
  for (const Header& header : headers) {
    if (!iequals(header.name, "Connection")) continue;
    std::string_view list = header.value;
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view element = trim_optional_whitespace(list.substr(0, comma));
      if (!element.empty()) {
        if (listed_count_ == kInlineNames) {
          overflow_headers_ = &headers;
          return;
        }
        listed_[listed_count_++] = element;
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
}

bool HopByHop::contains(std::string_view name) const {
  // The fixed list by length first: a proxied message has a dozen headers, each asked about once.
  switch (name.size()) {
    case 2:
      if (iequals(name, "TE")) return true;
      break;
    case 7:
      if (iequals(name, "Trailer") || iequals(name, "Upgrade")) return true;
      break;
    case 10:
      if (iequals(name, "Connection") || iequals(name, "Keep-Alive")) return true;
      break;
    case 16:
      if (iequals(name, "Proxy-Connection")) return true;
      break;
    case 17:
      if (iequals(name, "Transfer-Encoding")) return true;
      break;
    case 18:
      if (iequals(name, "Proxy-Authenticate")) return true;
      break;
    case 19:
      if (iequals(name, "Proxy-Authorization")) return true;
      break;
    case 0: return false;
    default: break;
  }
  if (overflow_headers_ != nullptr) {
    for (const Header& header : *overflow_headers_)
      if (iequals(header.name, "Connection") && list_contains(header.value, name)) return true;
    return false;
  }
  for (std::size_t i = 0; i < listed_count_; ++i)
    if (iequals(listed_[i], name)) return true;
  return false;
}

std::optional<std::string_view> RequestHead::find(std::string_view name) const {
  return find_header(headers, name);
}

std::string_view RequestHead::path() const {
  return target.substr(0, target.find('?'));
}

std::optional<std::string_view> ResponseHead::find(std::string_view name) const {
  return find_header(headers, name);
}

}  // namespace tollway::http
