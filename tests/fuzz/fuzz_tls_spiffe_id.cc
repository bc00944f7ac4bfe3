// libFuzzer target for SPIFFE ID parsing (tls::SpiffeId). Invariants: an ID that parses is exactly its input,
// re-parses to itself, splits into a trust domain and a path that each pass their own check and rebuild the
// input, stays within the spec's lengths and holds only the spec's characters; an input that does not parse
// gets a non-empty reason.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tls/spiffe_id.h"

namespace {

bool allowed_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '/' || c == ':';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto id = tollway::tls::SpiffeId::parse(text, &error);
  if (!id) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  using tollway::tls::SpiffeId;
  FUZZ_CHECK(id->text() == text);
  FUZZ_CHECK(text.size() <= SpiffeId::kMaxLength);
  FUZZ_CHECK(text.substr(0, 9) == "spiffe://");
  for (char c : text) FUZZ_CHECK(allowed_char(c));
  FUZZ_CHECK(!id->trust_domain().empty() && id->trust_domain().size() <= SpiffeId::kMaxTrustDomainLength);
  FUZZ_CHECK(SpiffeId::check_trust_domain(id->trust_domain()).empty());
  FUZZ_CHECK(SpiffeId::check_path(id->path()).empty());
  FUZZ_CHECK("spiffe://" + std::string(id->trust_domain()) + std::string(id->path()) == text);
  const auto again = SpiffeId::parse(id->text());
  FUZZ_CHECK(again && *again == *id);
  return 0;
}
