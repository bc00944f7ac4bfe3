// libFuzzer target for the RESP2 reply parser: the replies, the error verdict and where it happens must not
// depend on how the input is split (the first two bytes choose the cut points), lengths stay within the limits,
// and a reply re-encoded as RESP parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "limits/redis/resp.h"

namespace {

using namespace tollway::limits::redis;

constexpr RespLimits kLimits{4096, 64, 256, 8};

struct Parsed {
  std::vector<RespValue> replies;
  bool failed = false;
  std::size_t consumed = 0;  // bytes consumed up to the last reply or the failure
};

Parsed parse(std::string_view input, std::size_t step) {
  RespParser parser(kLimits);
  Parsed out;
  std::size_t offset = 0;
  while (offset < input.size() && !out.failed) {
    std::string_view piece = input.substr(offset, step);
    const std::size_t piece_size = piece.size();
    for (;;) {
      RespValue value;
      const std::size_t before = piece.size();
      const auto status = parser.parse(piece, value);
      FUZZ_CHECK(piece.size() <= before);
      if (status == RespParser::Status::Reply) {
        out.replies.push_back(std::move(value));
        out.consumed = offset + (piece_size - piece.size());
        continue;
      }
      if (status == RespParser::Status::Failed) {
        FUZZ_CHECK(!parser.error().empty());
        out.failed = true;
      } else {
        FUZZ_CHECK(piece.empty());
      }
      break;
    }
    offset += piece_size;
  }
  return out;
}

void encode(const RespValue& v, std::string& out) {
  switch (v.type) {
    case RespType::SimpleString: out += "+" + v.text + "\r\n"; break;
    case RespType::Error: out += "-" + v.text + "\r\n"; break;
    case RespType::Integer: out += ":" + std::to_string(v.integer) + "\r\n"; break;
    case RespType::BulkString: out += "$" + std::to_string(v.text.size()) + "\r\n" + v.text + "\r\n"; break;
    case RespType::Null: out += "$-1\r\n"; break;
    case RespType::Array:
      out += "*" + std::to_string(v.elements.size()) + "\r\n";
      for (const auto& e : v.elements) encode(e, out);
      break;
  }
}

void check_limits(const RespValue& v, std::size_t depth) {
  FUZZ_CHECK(depth <= kLimits.max_depth + 1);
  if (v.type == RespType::BulkString) FUZZ_CHECK(v.text.size() <= static_cast<std::size_t>(kLimits.max_bulk_bytes));
  if (v.type == RespType::SimpleString || v.type == RespType::Error) {
    FUZZ_CHECK(v.text.size() <= kLimits.max_line_bytes);
    FUZZ_CHECK(v.text.find_first_of("\r\n") == std::string::npos);
  }
  for (const auto& e : v.elements) check_limits(e, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 7;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Parsed whole = parse(input, input.size() + 1);
  const Parsed split = parse(input, step);
  FUZZ_CHECK(whole.failed == split.failed);
  FUZZ_CHECK(whole.replies == split.replies);
  FUZZ_CHECK(whole.consumed == split.consumed);
  for (const auto& reply : whole.replies) {
    check_limits(reply, 0);
    std::string again;
    encode(reply, again);
    const Parsed round = parse(again, again.size() + 1);
    FUZZ_CHECK(!round.failed && round.replies.size() == 1 && round.replies[0] == reply);
  }
  return 0;
}
