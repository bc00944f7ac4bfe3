// libFuzzer target for the chunked decoder: the verdict, the decoded bytes and the consumed count must not
// depend on how the input is split, data views must lie inside the input, and encode/decode must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/chunked.h"

namespace {

using namespace tollway::http;

struct Decoded {
  bool done = false;
  bool error = false;
  std::string body;
  std::size_t consumed = 0;
};

Decoded decode(std::string_view input, const std::vector<std::size_t>& cuts, std::size_t max_line,
               std::size_t max_trailer) {
  ChunkedDecoder decoder(max_line, max_trailer);
  Decoded out;
  std::size_t start = 0;
  for (std::size_t index = 0; index <= cuts.size(); ++index) {
    const std::size_t stop = index < cuts.size() ? cuts[index] : input.size();
    if (stop < start) continue;
    std::string_view piece = input.substr(start, stop - start);
    start = stop;
    for (;;) {
      const ChunkedDecoder::Step step = decoder.next(piece);
      FUZZ_CHECK(step.consumed <= piece.size());
      if (step.status == ChunkedDecoder::Status::Data) {
        FUZZ_CHECK(!step.data.empty());
        FUZZ_CHECK(step.data.data() >= piece.data());
        FUZZ_CHECK(step.data.data() + step.data.size() == piece.data() + step.consumed);
        out.body.append(step.data);
      } else {
        FUZZ_CHECK(step.data.empty());
      }
      out.consumed += step.consumed;
      piece.remove_prefix(step.consumed);
      if (step.status == ChunkedDecoder::Status::Done) {
        FUZZ_CHECK(decoder.done());
        const ChunkedDecoder::Step after = decoder.next(piece);
        FUZZ_CHECK(after.status == ChunkedDecoder::Status::Done && after.consumed == 0);
        out.done = true;
        return out;
      }
      if (step.status == ChunkedDecoder::Status::Error) {
        FUZZ_CHECK(!decoder.error().empty() && !decoder.done());
        const ChunkedDecoder::Step after = decoder.next(piece);
        FUZZ_CHECK(after.status == ChunkedDecoder::Status::Error && after.consumed == 0);
        out.error = true;
        return out;
      }
      if (step.status == ChunkedDecoder::Status::NeedMore) {
        FUZZ_CHECK(piece.empty());
        break;
      }
    }
  }
  return out;
}

void check_same(const Decoded& a, const Decoded& b) {
  FUZZ_CHECK(a.done == b.done);
  FUZZ_CHECK(a.error == b.error);
  FUZZ_CHECK(a.body == b.body);
  FUZZ_CHECK(a.consumed == b.consumed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the split points and limits; the rest is the chunked body.
  const uint8_t split_seed = data[0];
  const uint8_t limit_seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t max_line = limit_seed & 1 ? 4096 : 8 + (limit_seed >> 2);
  const std::size_t max_trailer = limit_seed & 2 ? 16 * 1024 : 16 + (limit_seed >> 1);

  const Decoded whole = decode(input, {}, max_line, max_trailer);
  FUZZ_CHECK(whole.consumed <= input.size());
  FUZZ_CHECK(whole.body.size() <= input.size());
  if (!whole.done && !whole.error) FUZZ_CHECK(whole.consumed == input.size());

  std::vector<std::size_t> cuts;
  for (std::size_t at = split_seed % 7; at < input.size(); at += 1 + (split_seed % 13)) cuts.push_back(at);
  check_same(whole, decode(input, cuts, max_line, max_trailer));
  if (input.size() <= 4096) {
    std::vector<std::size_t> every_byte;
    for (std::size_t at = 1; at < input.size(); ++at) every_byte.push_back(at);
    check_same(whole, decode(input, every_byte, max_line, max_trailer));
  }

  // Round trip: the input as a payload, encoded in chunks whose sizes depend on the seed.
  std::string encoded;
  const std::size_t chunk = 1 + split_seed;
  for (std::size_t at = 0; at < input.size(); at += chunk) append_chunk(encoded, input.substr(at, chunk));
  encoded += kLastChunk;
  const Decoded round_trip = decode(encoded, cuts, 4096, 16 * 1024);
  FUZZ_CHECK(round_trip.done);
  FUZZ_CHECK(round_trip.body == input);
  FUZZ_CHECK(round_trip.consumed == encoded.size());
  return 0;
}
