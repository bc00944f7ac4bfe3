// Pre-tokenizers: hand-written scanners that split valid UTF-8 text into the same pieces as tiktoken's split
// regexes (r50k/p50k "gpt2", cl100k_base, o200k_base), leftmost-first with the regexes' backtracking rules.
// They never allocate and never read past the end; they must only be given valid UTF-8 (see utf8.h).
#pragma once

#include <cstddef>
#include <string_view>

namespace tollway::tokens {

enum class SplitPattern { Gpt2, Cl100k, O200k };

// End (exclusive byte offset) of the piece that starts at `begin` (< text.size()).
std::size_t next_piece_end(SplitPattern pattern, std::string_view text, std::size_t begin);

// Calls on_piece(std::string_view piece) for every piece of text, in order.
template <class OnPiece>
void split_pieces(SplitPattern pattern, std::string_view text, OnPiece&& on_piece) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t end = next_piece_end(pattern, text, i);
    on_piece(text.substr(i, end - i));
    i = end;
  }
}

}  // namespace tollway::tokens
