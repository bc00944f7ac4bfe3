// libFuzzer target for BodyReader: for each framing and a limit chosen by the seed, the verdict, the content and
// the bytes used must not depend on how the input is split; data views lie inside the input; content never
// passes the limit; a finished or failed reader stays so.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/body_reader.h"

namespace {

using namespace tollway::http;

struct Read {
  BodyReader::Status last = BodyReader::Status::NeedMore;
  BodyReader::Failure failure = BodyReader::Failure::None;
  std::string content;
  std::size_t used = 0;
};

Read read(BodyFraming framing, uint64_t length, uint64_t limit, std::string_view input,
          const std::vector<std::size_t>& cuts) {
  BodyReader reader(framing, length, limit);
  Read out;
  std::size_t start = 0;
  for (std::size_t index = 0; index <= cuts.size(); ++index) {
    const std::size_t stop = index < cuts.size() ? cuts[index] : input.size();
    if (stop < start) continue;
    std::string_view piece = input.substr(start, stop - start);
    start = stop;
    for (;;) {
      const BodyReader::Step step = reader.next(piece);
      FUZZ_CHECK(step.consumed <= piece.size());
      if (step.status == BodyReader::Status::Data) {
        FUZZ_CHECK(!step.data.empty());
        FUZZ_CHECK(step.data.data() >= piece.data());
        FUZZ_CHECK(step.data.data() + step.data.size() <= piece.data() + step.consumed);
        out.content.append(step.data);
        FUZZ_CHECK(out.content.size() <= limit);
        FUZZ_CHECK(reader.content_bytes() == out.content.size());
      }
      out.used += step.consumed;
      piece.remove_prefix(step.consumed);
      out.last = step.status;
      if (step.status == BodyReader::Status::Done || step.status == BodyReader::Status::Error) {
        const BodyReader::Step after = reader.next(piece);
        FUZZ_CHECK(after.status == step.status && after.consumed == 0);
        out.failure = reader.failure();
        FUZZ_CHECK((step.status == BodyReader::Status::Error) == !reader.error().empty());
        return out;
      }
      if (step.status == BodyReader::Status::NeedMore) {
        FUZZ_CHECK(piece.empty());
        break;
      }
    }
  }
  const BodyReader::Step end = reader.end_of_input();
  out.last = end.status;
  out.failure = reader.failure();
  if (framing == BodyFraming::UntilClose) FUZZ_CHECK(end.status == BodyReader::Status::Done);
  return out;
}

void check_same(const Read& a, const Read& b) {
  FUZZ_CHECK(a.last == b.last);
  FUZZ_CHECK(a.failure == b.failure);
  FUZZ_CHECK(a.content == b.content);
  FUZZ_CHECK(a.used == b.used);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // The first three bytes choose the framing, the Content-Length, the limit and the split points.
  const BodyFraming framing = data[0] % 3 == 0   ? BodyFraming::ContentLength
                              : data[0] % 3 == 1 ? BodyFraming::Chunked
                                                 : BodyFraming::UntilClose;
  const uint64_t length = data[1];
  const uint64_t limit = data[0] & 0x80 ? BodyReader::kNoLimit : (data[0] >> 2) * 4;
  const uint8_t split_seed = data[2];
  const std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);

  const Read whole = read(framing, length, limit, input, {});
  FUZZ_CHECK(whole.used <= input.size());
  std::vector<std::size_t> cuts;
  for (std::size_t at = split_seed % 7; at < input.size(); at += 1 + (split_seed % 13)) cuts.push_back(at);
  check_same(whole, read(framing, length, limit, input, cuts));
  if (input.size() <= 4096) {
    std::vector<std::size_t> every_byte;
    for (std::size_t at = 1; at < input.size(); ++at) every_byte.push_back(at);
    check_same(whole, read(framing, length, limit, input, every_byte));
  }
  return 0;
}
