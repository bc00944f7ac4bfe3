// RunningTokenCount against Encoding::count of the whole text: random texts built from the pieces the split
// scanners treat specially (contractions, whitespace runs before words, digit runs, marks, CJK, emoji), cut
// into random parts; and the documented bound where one unbroken run outgrows the held tail.
#include "tokens/running_count.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ranks_dir.h"

namespace tollway::tokens {
namespace {

// Whole characters only: a streamed delta is a decoded JSON string, so it never ends inside a character.
const std::vector<std::string> kFragments = {
    "a", "b", "Z", "Q", "e\xCC\x81", "\xC3\xA9", "'", "'s", "'ll", "'RE", "'ve", "'d", " ", " ", "  ", "\n", "\r\n",
    "\t", "\n\n", "1", "23", "4567", ".", "!?", "/", ",", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xF0\x9F\x98\x80", "don",
    "HELLO", "World", " x", "<|endoftext|>", "{\"k\":", "\"v\"}", "  \n  ", "http://", "x.y"};

TEST(RunningTokenCount, EqualsTheWholeTextCountAtEverySplit) {
  std::mt19937 rng(12);
  for (EncodingName name : {EncodingName::Cl100kBase, EncodingName::O200kBase, EncodingName::R50kBase}) {
    const Encoding& enc = Encoding::embedded(name);
    for (int round = 0; round < 300; ++round) {
      std::vector<std::string> parts;
      std::string whole;
      const int fragments = 20 + static_cast<int>(rng() % 1500);
      std::string part;
      for (int i = 0; i < fragments; ++i) {
        part += kFragments[rng() % kFragments.size()];
        if (rng() % 3 == 0) {
          parts.push_back(part);
          whole += part;
          part.clear();
        }
      }
      parts.push_back(part);
      whole += part;
      RunningTokenCount running(enc);
      for (const auto& p : parts) running.append(p);
      ASSERT_EQ(running.tokens(), enc.count(whole, SpecialPolicy::Ordinary))
          << to_string(name) << " round " << round << ": " << whole;
      EXPECT_EQ(running.bytes(), whole.size());
      EXPECT_LE(running.held_bytes(), RunningTokenCount::kMaxTailBytes);
    }
  }
}

TEST(RunningTokenCount, HeldBytesStayBoundedForAnUnbrokenRun) {
  const Encoding& enc = Encoding::embedded(EncodingName::O200kBase);
  std::string whole;
  RunningTokenCount running(enc);
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::string part(1, static_cast<char>('a' + rng() % 26));  // one "word" of 20,000 letters
    running.append(part);
    whole += part;
    ASSERT_LE(running.held_bytes(), RunningTokenCount::kMaxTailBytes + 1);
  }
  const long exact = static_cast<long>(enc.count(whole, SpecialPolicy::Ordinary));
  const long cuts = static_cast<long>(whole.size() / RunningTokenCount::kMaxTailBytes);
  EXPECT_LE(std::labs(static_cast<long>(running.tokens()) - exact), 2 * cuts) << exact;
}

TEST(RunningTokenCount, RepairsInvalidUtf8LikeCount) {
  const Encoding& enc = Encoding::embedded(EncodingName::Cl100kBase);
  RunningTokenCount running(enc);
  running.append("ok \xFF then");
  EXPECT_EQ(running.tokens(), enc.count("ok \xFF then", SpecialPolicy::Ordinary));
}

}  // namespace
}  // namespace tollway::tokens
