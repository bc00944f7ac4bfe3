#include "core/units.h"

#include <gtest/gtest.h>

namespace tollway::units {
namespace {

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("10s")->count(), 10'000);
  EXPECT_EQ(parse_duration("5m")->count(), 300'000);
  EXPECT_EQ(parse_duration("1h")->count(), 3'600'000);
  for (const char* bad : {"", "10", "s", "1.5s", "-1s", "10 s", "10sec", "99999999999999999999h"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

TEST(Units, Sizes) {
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("8KiB"), 8192u);
  EXPECT_EQ(*parse_size("16MiB"), 16u << 20);
  EXPECT_EQ(*parse_size("1GiB"), 1u << 30);
  EXPECT_EQ(*parse_size("10KB"), 10'000u);
  for (const char* bad : {"", "KiB", "8kib", "1.5MiB", "8 KiB", "-1", "99999999999999999999GiB"})
    EXPECT_FALSE(parse_size(bad)) << bad;
}

}  // namespace
}  // namespace tollway::units
