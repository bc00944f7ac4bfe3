#include "a2a/card.h"

#include <gtest/gtest.h>

namespace tollway::a2a {
namespace {

const auto kSummarizeOnly = [](std::string_view id) { return id == "summarize"; };

TEST(A2aCard, KeepsOnlyTheAllowedSkillsAndEveryOtherByteOfTheCard) {
  const std::string card =
      R"({"name":"writer","skills":[{"id":"summarize","name":"S","tags":["x"]}, {"id":"translate"},)"
      R"({"id":"admin_reset"}],"version":"1.0.0","n":1.50,"url":"http:\/\/writer\/"})";
  std::string out;
  ASSERT_EQ(filter_card_text(card, 1 << 20, kSummarizeOnly, out), CardFilter::Filtered);
  EXPECT_EQ(out,
            R"({"name":"writer","skills":[{"id":"summarize","name":"S","tags":["x"]}],"version":"1.0.0",)"
            R"("n":1.50,"url":"http:\/\/writer\/"})");
}

TEST(A2aCard, AFilteredCardLosesItsSignatures) {
  const std::string card =
      R"({"signatures":[{"protected":"p","signature":"s"}],"skills":[{"id":"a"},{"id":"b"}]})";
  std::string out;
  ASSERT_EQ(filter_card_text(
                card, 1 << 20, [](std::string_view id) { return id == "a"; }, out),
            CardFilter::Filtered);
  EXPECT_EQ(out, R"({"skills":[{"id":"a"}]})");
  // Nothing filtered: the card stays as signed.
  out = "untouched";
  EXPECT_EQ(filter_card_text(
                card, 1 << 20, [](std::string_view) { return true; }, out),
            CardFilter::Unchanged);
  EXPECT_EQ(out, "untouched");
}

TEST(A2aCard, NoSkillAllowedLeavesAnEmptyList) {
  std::string out;
  ASSERT_EQ(
      filter_card_text(R"({"skills":[{"id":"a"}]})", 1 << 20, [](std::string_view) { return false; }, out),
      CardFilter::Filtered);
  EXPECT_EQ(out, R"({"skills":[]})");
}

TEST(A2aCard, WhatCannotBeReadIsNeverPassedOn) {
  for (const std::string_view card : {
           R"({"name":"x"})",                         // no skills
           R"({"skills":{"id":"a"}})",                // not a list
           R"({"skills":[{"name":"a"}]})",            // a skill without an id
           R"({"skills":[{"id":1}]})",                // an id that is not a string
           R"({"skills":[{"id":"a"}],"skills":[]})",  // duplicate key
           R"({"skills":[{"id":"a"}]} trailing)",     // not one JSON value
           R"([{"skills":[]}])",                      // not an object
       }) {
    std::string out;
    EXPECT_EQ(filter_card_text(card, 1 << 20, kSummarizeOnly, out), CardFilter::Unreadable) << card;
  }
  std::string out;
  EXPECT_EQ(filter_card_text(R"({"skills":[{"id":"summarize"}]})", 10, kSummarizeOnly, out),
            CardFilter::Unreadable);
}

}  // namespace
}  // namespace tollway::a2a
