// libFuzzer: encode arbitrary bytes with cl100k_base and o200k_base; decode(encode(x)) must give back x when x
// is valid UTF-8, and its U+FFFD repair otherwise; count() must agree with encode().size().
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tokens/encoding.h"
#include "tokens/utf8.h"

using namespace tollway::tokens;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string expected = is_valid_utf8(text) ? std::string(text) : repair_utf8(text);
  if (!is_valid_utf8(expected)) std::abort();
  for (const Encoding* enc : {&Encoding::embedded(EncodingName::Cl100kBase), &Encoding::embedded(EncodingName::O200kBase)}) {
    const auto ids = enc->encode(text, SpecialPolicy::Ordinary);
    if (enc->decode(ids) != expected) std::abort();
    if (enc->count(text, SpecialPolicy::Ordinary) != ids.size()) std::abort();
    const auto with_specials = enc->encode(text, SpecialPolicy::Allow);
    if (enc->decode(with_specials) != expected) std::abort();
  }
  return 0;
}
