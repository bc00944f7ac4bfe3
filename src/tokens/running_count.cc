#include "tokens/running_count.h"

#include "tokens/pretokenizer.h"
#include "tokens/utf8.h"

namespace tollway::tokens {

void RunningTokenCount::append(std::string_view part) {
  const std::size_t before = tail_.size();
  if (is_valid_utf8(part))
    tail_.append(part);
  else
    tail_.append(repair_utf8(part));
  bytes_ += tail_.size() - before;
  if (tail_.size() >= kSettleBytes) settle();
}

// A split piece can still change while text may follow it: the scanners look up to a few characters past a
// piece's end (a contraction after a word, a whitespace run's last character), so the last two pieces stay.
void RunningTokenCount::settle() {
  const SplitPattern pattern = encoding_->split_pattern();
  std::size_t before_last = 0, last = 0, at = 0;
  while (at < tail_.size()) {
    before_last = last;
    last = at;
    at = next_piece_end(pattern, tail_, at);
  }
  std::size_t keep_from = before_last;
  if (tail_.size() - keep_from > kMaxTailBytes) keep_from = tail_.size();
  std::size_t from = 0;
  while (from < keep_from) {
    const std::size_t end = next_piece_end(pattern, tail_, from);
    settled_ += encoding_->count_piece(std::string_view(tail_).substr(from, end - from));
    from = end;
  }
  tail_.erase(0, keep_from);
}

std::size_t RunningTokenCount::tokens() const {
  return settled_ + encoding_->count(tail_, SpecialPolicy::Ordinary);
}

}  // namespace tollway::tokens
