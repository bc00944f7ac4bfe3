// RootSchedule: what each generated root is at an instant (prepared, active, old, retired), the bundle, the signer,
// the listener's signer and the bundle's sequence that follow, and the rotation planned from a schedule — refused
// while one is in progress.
#include "control/ca/root_schedule.h"

#include <gtest/gtest.h>

namespace tollway::control {
namespace {

using namespace std::chrono_literals;
using Clock = RootGeneration::Clock;

const Clock::time_point kStart = Clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(RootScheduleTest, NoScheduleIsTheFirstRootAlone) {
  const RootView view = root_view({}, kStart);
  EXPECT_EQ(view, (RootView{{1}, 1, 1, 1}));
}

TEST(RootScheduleTest, ARotationMovesThroughPreparedActiveOldRetired) {
  std::string error;
  const auto plan = plan_rotation({}, kStart, 10min, 30min, error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(plan->next.generation, 2);
  EXPECT_EQ(plan->next.activates_at, kStart + 10min);
  EXPECT_EQ(plan->active.generation, 1);
  EXPECT_EQ(*plan->active.retires_at, kStart + 40min);
  const std::vector<RootGeneration> schedule{plan->active, plan->next};

  // Prepared: both in the bundle, the old one signs everything.
  EXPECT_EQ(root_state(schedule, schedule[1], kStart), RootState::Prepared);
  EXPECT_EQ(root_view(schedule, kStart + 9min), (RootView{{1, 2}, 1, 1, 2}));
  // Active: the new one signs SVIDs; the old one, still trusted, signs the listener's certificate.
  EXPECT_EQ(root_state(schedule, schedule[0], kStart + 10min), RootState::Old);
  EXPECT_EQ(root_state(schedule, schedule[1], kStart + 10min), RootState::Active);
  EXPECT_EQ(root_view(schedule, kStart + 10min), (RootView{{1, 2}, 2, 1, 2}));
  // Retired: the old root leaves the bundle (the sequence counts it), the new one signs everything.
  EXPECT_EQ(root_state(schedule, schedule[0], kStart + 40min), RootState::Retired);
  EXPECT_EQ(root_view(schedule, kStart + 40min), (RootView{{2}, 2, 2, 3}));
}

TEST(RootScheduleTest, NoPrepareActivatesAtOnce) {
  std::string error;
  const auto plan = plan_rotation({}, kStart, 0s, 1min, error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(root_view({plan->active, plan->next}, kStart), (RootView{{1, 2}, 2, 1, 2}));
}

TEST(RootScheduleTest, ARotationInProgressRefusesAnother) {
  std::string error;
  const auto plan = plan_rotation({}, kStart, 10min, 30min, error);
  ASSERT_TRUE(plan);
  const std::vector<RootGeneration> schedule{plan->active, plan->next};
  EXPECT_FALSE(plan_rotation(schedule, kStart + 1min, 0s, 1min, error));
  EXPECT_NE(error.find("root generation 2 is prepared"), std::string::npos) << error;
  EXPECT_FALSE(plan_rotation(schedule, kStart + 20min, 0s, 1min, error));
  EXPECT_NE(error.find("root generation 1 is still in the bundle"), std::string::npos) << error;
  // Once the old root retired, the next rotation starts from generation 2.
  const auto next = plan_rotation(schedule, kStart + 40min, 0s, 1min, error);
  ASSERT_TRUE(next) << error;
  EXPECT_EQ(next->next.generation, 3);
  EXPECT_EQ(next->active.generation, 2);
  const std::vector<RootGeneration> later{schedule[0], next->active, next->next};
  EXPECT_EQ(root_view(later, kStart + 40min), (RootView{{2, 3}, 3, 2, 4}));
}

TEST(RootScheduleTest, FilesOfEachGeneration) {
  EXPECT_EQ(root_certificate_file("/s", 1), "/s/ca/root.pem");
  EXPECT_EQ(root_key_file("/s", 1), "/s/ca/root.key");
  EXPECT_EQ(root_certificate_file("/s", 3), "/s/ca/root-3.pem");
  EXPECT_EQ(root_key_file("/s", 3), "/s/ca/root-3.key");
}

}  // namespace
}  // namespace tollway::control
