#include "sidecar/hop_header.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace tollway::sidecar {
namespace {

std::optional<uint32_t> parse(std::vector<std::string_view> values) { return parse_hop_count(values); }

TEST(ParseHopCount, NoHeaderIsTheFirstHop) { EXPECT_EQ(parse({}), 1u); }

TEST(ParseHopCount, OneWholeNumberFromOneToTheMaximum) {
  EXPECT_EQ(parse({"1"}), 1u);
  EXPECT_EQ(parse({"15"}), 15u);
  EXPECT_EQ(parse({"65535"}), 65535u);
}

TEST(ParseHopCount, AnythingElseIsMalformed) {
  for (std::string_view bad : {"", "0", "65536", "4294967296", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1,2", "one"})
    EXPECT_EQ(parse({bad}), std::nullopt) << bad;
}

TEST(ParseHopCount, ARepeatedHeaderIsMalformedEvenWhenTheValuesAgree) {
  EXPECT_EQ(parse({"2", "2"}), std::nullopt);
}

}  // namespace
}  // namespace tollway::sidecar
