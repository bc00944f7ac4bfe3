#include "tokens/bpe.h"

#include <cstring>
#include <queue>

namespace tollway::tokens {
namespace {

constexpr std::size_t kSmallPiece = 40;   // beyond this the O(n^2) array scan loses to the heap

// Calls emit(rank) for each final token of piece, left to right. The piece is copied into a zero-padded buffer
// so that any part of up to 16 bytes is one or two unaligned loads plus a mask (RankTable's packed-key lookups).
template <class Emit>
void merge_small(const RankTable& ranks, std::string_view piece, Emit&& emit) {
  unsigned char bytes[kSmallPiece + 16] = {};
  std::memcpy(bytes, piece.data(), piece.size());
  std::uint8_t starts[kSmallPiece + 1];    // starts[k] = byte offset where part k begins; starts[count] = size
  std::uint32_t pair_rank[kSmallPiece];   // rank of part k joined with part k+1
  std::uint32_t part_rank[kSmallPiece];   // rank of part k itself
  std::size_t count = piece.size();
  for (std::size_t k = 0; k <= count; ++k) starts[k] = static_cast<std::uint8_t>(k);
  for (std::size_t k = 0; k < count; ++k) part_rank[k] = ranks.find_byte(bytes[k]);
  for (std::size_t k = 0; k + 1 < count; ++k) pair_rank[k] = ranks.find_two_bytes(bytes[k], bytes[k + 1]);
  auto rank_of = [&](std::size_t k) -> std::uint32_t {  // needs k + 2 <= count; parts are >= 3 bytes together
    const std::size_t from = starts[k], length = starts[k + 2] - from;
    std::uint64_t first;
    std::memcpy(&first, bytes + from, 8);
    if (length <= 8) return ranks.find_short(length == 8 ? first : first & ((std::uint64_t{1} << (length * 8)) - 1), length);
    if (length > 16) return ranks.find_long(piece.substr(from, length));
    std::uint64_t rest;
    std::memcpy(&rest, bytes + from + 8, 8);
    if (length < 16) rest &= (std::uint64_t{1} << ((length - 8) * 8)) - 1;
    return ranks.find_medium(first, rest, length);
  };
  while (count > 1) {
    std::uint32_t best = kNoRank;
    std::size_t at = 0;
    for (std::size_t k = 0; k + 1 < count; ++k)
      if (pair_rank[k] < best) { best = pair_rank[k]; at = k; }
    if (best == kNoRank) break;
    // Merge part at+1 into part at.
    part_rank[at] = best;
    for (std::size_t k = at + 1; k < count; ++k) starts[k] = starts[k + 1];
    for (std::size_t k = at + 1; k + 1 < count; ++k) part_rank[k] = part_rank[k + 1];
    for (std::size_t k = at + 1; k + 1 < count; ++k) pair_rank[k] = pair_rank[k + 1];
    --count;
    if (at + 1 < count) pair_rank[at] = rank_of(at);
    if (at > 0) pair_rank[at - 1] = rank_of(at - 1);
  }
  for (std::size_t k = 0; k < count; ++k) emit(part_rank[k]);
}

template <class Emit>
void merge_large(const RankTable& ranks, std::string_view piece, Emit&& emit) {
  const std::uint32_t n = static_cast<std::uint32_t>(piece.size());
  constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  // Part k starts at byte k (parts are identified by their start); next/prev link the live parts.
  // Per-thread buffers, reused across pieces.
  thread_local std::vector<std::uint32_t> next, prev, pair_rank, part_rank;
  thread_local std::vector<std::uint64_t> heap_storage;
  thread_local std::vector<bool> dead;
  next.resize(n);
  prev.resize(n);
  pair_rank.assign(n, kNoRank);
  part_rank.resize(n);
  dead.assign(n, false);
  heap_storage.clear();
  for (std::uint32_t k = 0; k < n; ++k) {
    next[k] = k + 1 < n ? k + 1 : kNone;
    prev[k] = k > 0 ? k - 1 : kNone;
    part_rank[k] = ranks.find(piece.substr(k, 1));
  }
  auto end_of = [&](std::uint32_t k) { return next[k] == kNone ? n : next[k]; };
  auto rank_of = [&](std::uint32_t k) -> std::uint32_t {
    if (next[k] == kNone) return kNoRank;
    const std::uint32_t stop = end_of(next[k]);
    return ranks.find(piece.substr(k, stop - k));
  };
  using Entry = std::uint64_t;  // (rank << 32) | start: smallest rank first, then leftmost.
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap(std::greater<Entry>(), std::move(heap_storage));
  for (std::uint32_t k = 0; k < n; ++k) {
    pair_rank[k] = rank_of(k);
    if (pair_rank[k] != kNoRank) heap.push((Entry{pair_rank[k]} << 32) | k);
  }
  while (!heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    const std::uint32_t k = static_cast<std::uint32_t>(top);
    const std::uint32_t r = static_cast<std::uint32_t>(top >> 32);
    if (dead[k] || pair_rank[k] != r) continue;  // stale entry
    const std::uint32_t gone = next[k];
    dead[gone] = true;
    part_rank[k] = r;
    next[k] = next[gone];
    if (next[k] != kNone) prev[next[k]] = k;
    pair_rank[k] = rank_of(k);
    if (pair_rank[k] != kNoRank) heap.push((Entry{pair_rank[k]} << 32) | k);
    if (prev[k] != kNone) {
      const std::uint32_t p = prev[k];
      pair_rank[p] = rank_of(p);
      if (pair_rank[p] != kNoRank) heap.push((Entry{pair_rank[p]} << 32) | p);
    }
  }
  for (std::uint32_t k = 0; k != kNone; k = next[k]) emit(part_rank[k]);
  // Hand the (empty) heap's storage back for the next piece.
  struct Drain : std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> {
    static std::vector<Entry>& container(std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>>& q) {
      return q.*(&Drain::c);
    }
  };
  heap_storage = std::move(Drain::container(heap));
}

template <class Emit>
void merge(const RankTable& ranks, std::string_view piece, Emit&& emit) {
  if (piece.size() <= kSmallPiece) merge_small(ranks, piece, emit);
  else merge_large(ranks, piece, emit);
}

}  // namespace

void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<std::uint32_t>& out) {
  merge(ranks, piece, [&](std::uint32_t rank) { out.push_back(rank); });
}

std::size_t byte_pair_count(const RankTable& ranks, std::string_view piece) {
  std::size_t count = 0;
  merge(ranks, piece, [&](std::uint32_t) { ++count; });
  return count;
}

}  // namespace tollway::tokens
