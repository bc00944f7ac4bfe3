#include "sidecar/hop_fanout.h"

#include <gtest/gtest.h>

namespace tollway::sidecar {
namespace {

TEST(ExhaustedFanoutRoots, ARootIsRefusedUntilItsGrantExpires) {
  ExhaustedFanoutRoots roots;
  roots.add("root-a", 1000, 900);
  EXPECT_TRUE(roots.contains("root-a", 900));
  EXPECT_TRUE(roots.contains("root-a", 999));
  EXPECT_FALSE(roots.contains("root-a", 1000));
  EXPECT_FALSE(roots.contains("root-b", 900));
}

TEST(ExhaustedFanoutRoots, AnExpiredGrantIsNotRemembered) {
  ExhaustedFanoutRoots roots;
  roots.add("root-a", 900, 900);
  EXPECT_EQ(roots.size(), 0u);
}

TEST(ExhaustedFanoutRoots, BoundedTheEntriesExpiringFirstMakeRoom) {
  ExhaustedFanoutRoots roots(2);
  roots.add("soon", 1100, 1000);
  roots.add("late", 1300, 1000);
  roots.add("later", 1200, 1000);
  EXPECT_EQ(roots.size(), 2u);
  EXPECT_FALSE(roots.contains("soon", 1000));
  EXPECT_TRUE(roots.contains("late", 1000));
  EXPECT_TRUE(roots.contains("later", 1000));
  // Expired entries leave at the next add.
  roots.add("next", 2000, 1250);
  EXPECT_TRUE(roots.contains("late", 1250));
  EXPECT_TRUE(roots.contains("next", 1250));
  EXPECT_EQ(roots.size(), 2u);
}

}  // namespace
}  // namespace tollway::sidecar
