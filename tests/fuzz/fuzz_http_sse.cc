// libFuzzer target for the SSE reader: the events (type, data, id, byte ranges) must not depend on how the
// input is split; ranges must be ordered, non-overlapping and inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/sse.h"

namespace {

using namespace tollway::http;

struct Seen {
  std::string type, data, id;
  uint64_t begin, end;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> read(std::string_view input, std::size_t piece) {
  SseReader reader;
  std::vector<Seen> out;
  for (std::size_t i = 0; i < input.size(); i += piece)
    reader.feed(input.substr(i, piece), [&](const SseEvent& e) {
      out.push_back({std::string(e.type), std::string(e.data), std::string(e.id), e.begin, e.end});
    });
  FUZZ_CHECK(reader.offset() == input.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 7;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto whole = read(input, input.size() ? input.size() : 1);
  uint64_t previous_end = 0;
  for (const auto& e : whole) {
    FUZZ_CHECK(e.begin >= previous_end);
    FUZZ_CHECK(e.begin < e.end && e.end <= input.size());
    previous_end = e.end;
  }
  FUZZ_CHECK(read(input, piece) == whole);
  return 0;
}
