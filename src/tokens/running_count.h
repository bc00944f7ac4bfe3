// RunningTokenCount: the token count of a text that arrives in parts (the deltas of a streamed reply), kept
// without keeping the text. Pieces whose split can no longer change are counted and dropped as parts arrive;
// only the unfinished tail (the last two pieces, at least kSettleBytes before a split is tried) stays held.
// The total equals Encoding::count(whole text, SpecialPolicy::Ordinary) exactly, except where one unbroken
// run of text (a single split piece) outgrows kMaxTailBytes: that tail is then counted as it stands, so each
// such cut may change the total by the few tokens a merge across it would have saved. It never holds more
// than kMaxTailBytes plus one appended part, and never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tokens/encoding.h"

namespace tollway::tokens {

class RunningTokenCount {
 public:
  static constexpr std::size_t kSettleBytes = 256;
  static constexpr std::size_t kMaxTailBytes = 4096;

  explicit RunningTokenCount(const Encoding& encoding) : encoding_(&encoding) {}

  // Adds the next part of the text; invalid UTF-8 in it is repaired to U+FFFD, as Encoding::count does.
  void append(std::string_view part);
  // Tokens of everything appended so far.
  std::size_t tokens() const;
  // Bytes appended so far (after repair).
  std::uint64_t bytes() const { return bytes_; }
  // Bytes currently held (the unfinished tail).
  std::size_t held_bytes() const { return tail_.size(); }

 private:
  void settle();
  const Encoding* encoding_;  // process-lifetime (Encoding::embedded)
  std::string tail_;          // valid UTF-8 not yet counted into settled_
  std::size_t settled_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace tollway::tokens
