// Byte-pair merge of one pre-tokenized piece, with tiktoken's rule: repeatedly merge the adjacent pair whose
// concatenation has the lowest rank (leftmost on ties) until no pair has a rank. Short pieces use a small
// array; long ones a heap over a linked list, so the worst case stays O(n log n). Never allocates for short
// pieces and never fails: every single byte has a rank (checked when the encoding is loaded).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokens/rank_table.h"

namespace tollway::tokens {

// Appends the ranks of piece's tokens to out. piece must not be empty.
void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<std::uint32_t>& out);

// Pieces of at most kSmallPieceBytes bytes: writes their ranks to out (room for piece.size() entries) and
// returns how many; no allocation.
inline constexpr std::size_t kSmallPieceBytes = 40;
std::size_t byte_pair_encode_small(const RankTable& ranks, std::string_view piece, std::uint32_t* out);

// Number of tokens byte_pair_encode would append.
std::size_t byte_pair_count(const RankTable& ranks, std::string_view piece);

}  // namespace tollway::tokens
