// libFuzzer target for the etcd watch stream's parser (bytes from an etcd member's socket): it never crashes, the
// responses and the verdict do not depend on where the input is split, and a failed parser stays failed.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "control/etcd/watch_stream_parser.h"
#include "fuzz_check.h"

namespace {

using tollway::control::etcd::WatchResponse;
using tollway::control::etcd::WatchStreamParser;

struct Outcome {
  WatchStreamParser::Status status = WatchStreamParser::Status::Ok;
  std::vector<WatchResponse> responses;
};

Outcome parse(std::string_view input, std::size_t cut) {
  Outcome out;
  WatchStreamParser parser(1 << 16);
  out.status = parser.feed(input.substr(0, cut), out.responses);
  if (out.status == WatchStreamParser::Status::Ok) out.status = parser.feed(input.substr(cut), out.responses);
  else FUZZ_CHECK(parser.feed(input.substr(cut), out.responses) == out.status);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  const Outcome whole = parse(input, input.size());
  const Outcome split = parse(input, cut);
  FUZZ_CHECK(whole.status == split.status);
  if (whole.status != WatchStreamParser::Status::Failed) {
    FUZZ_CHECK(whole.responses.size() == split.responses.size());
    for (std::size_t i = 0; i < whole.responses.size(); ++i) {
      FUZZ_CHECK(whole.responses[i].revision == split.responses[i].revision);
      FUZZ_CHECK(whole.responses[i].events.size() == split.responses[i].events.size());
    }
  }
  return 0;
}
