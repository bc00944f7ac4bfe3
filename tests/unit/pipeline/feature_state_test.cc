// FeatureStates: a feature's state is created once on first use and found by its type afterwards, absent until
// then; two types never share a slot; reset and destruction destroy each state exactly once; a move hands the
// states over (a request moved to the background settles keeps them).
#include "pipeline/feature_state.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace tollway::pipeline {
namespace {

int alive = 0;

struct Counted {
  Counted() { ++alive; }
  ~Counted() { --alive; }
  int value = 0;
};

struct Other {
  std::string text;
};

TEST(FeatureStates, AStateIsAbsentUntilUsedThenTheSameObject) {
  FeatureStates states;
  EXPECT_EQ(states.find<Counted>(), nullptr);
  states.get<Counted>().value = 7;
  ASSERT_NE(states.find<Counted>(), nullptr);
  EXPECT_EQ(states.find<Counted>()->value, 7);
  EXPECT_EQ(&states.get<Counted>(), states.find<Counted>());
  EXPECT_EQ(states.find<Other>(), nullptr);  // another type, another slot
  states.get<Other>().text = "x";
  EXPECT_EQ(states.find<Counted>()->value, 7);
  EXPECT_NE(feature_slot<Counted>(), feature_slot<Other>());
  EXPECT_EQ(feature_slot<Counted>(), feature_slot<Counted>());
}

TEST(FeatureStates, ResetAndDestructionDestroyEachStateOnce) {
  alive = 0;
  {
    FeatureStates states;
    states.get<Counted>();
    EXPECT_EQ(alive, 1);
    states.reset<Counted>();
    EXPECT_EQ(alive, 0);
    EXPECT_EQ(states.find<Counted>(), nullptr);
    states.reset<Counted>();  // nothing to reset
    EXPECT_EQ(states.get<Counted>().value, 0);  // afresh
    EXPECT_EQ(alive, 1);
  }
  EXPECT_EQ(alive, 0);
}

TEST(FeatureStates, AMoveHandsTheStatesOver) {
  alive = 0;
  FeatureStates first;
  first.get<Counted>().value = 3;
  const Counted* state = first.find<Counted>();
  FeatureStates second(std::move(first));
  EXPECT_EQ(second.find<Counted>(), state);
  EXPECT_EQ(first.find<Counted>(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
  FeatureStates third;
  third.get<Counted>();
  EXPECT_EQ(alive, 2);
  third = std::move(second);  // the state third held is destroyed
  EXPECT_EQ(alive, 1);
  EXPECT_EQ(third.find<Counted>()->value, 3);
}

}  // namespace
}  // namespace tollway::pipeline
