#include "tokens/bpe.h"

#include <cstring>
#include <queue>

namespace tollway::tokens {
namespace {

constexpr std::size_t kSmallPiece = kSmallPieceBytes;   // beyond this the O(n^2) array scan loses to the heap

// Calls emit(rank) for each final token of piece, left to right. The piece is copied into a zero-padded buffer
// so that any part of up to 16 bytes is one or two unaligned loads plus a mask (RankTable's packed-key lookups).
// Parts are named by their first byte; merged-away parts stay in the array as dead entries, so a merge moves no
// memory. Each live part packs (rank of the pair it starts << 32 | its start << 24 | its own rank) in one uint64:
// the smallest value is the lowest pair rank, leftmost on ties — tiktoken's rule — found by one linear scan.
// Needs ranks < 2^24 (merge() checks).
template <class Emit>
void merge_small(const RankTable& ranks, std::string_view piece, Emit&& emit) {
  const std::size_t n = piece.size();
  const auto* src = reinterpret_cast<const unsigned char*>(piece.data());
  unsigned char bytes[kSmallPiece + 16] = {};
  std::size_t copied = 0;
  for (; copied + 8 <= n; copied += 8) std::memcpy(bytes + copied, src + copied, 8);
  if (copied < n) {
    const std::uint64_t tail = RankTable::load_key(src + copied, n - copied);
    std::memcpy(bytes + copied, &tail, 8);
  }
  constexpr std::uint64_t kDead = ~std::uint64_t{0};
  std::uint64_t parts[kSmallPiece + 1];
  std::uint8_t next[kSmallPiece + 1], prev[kSmallPiece];  // neighbouring live parts; next[n] = n
  auto pack = [](std::uint32_t pair_rank, std::size_t start, std::uint32_t part_rank) {
    return (std::uint64_t{pair_rank} << 32) | (std::uint64_t{start} << 24) | part_rank;
  };
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t pair_rank = k + 1 < n ? ranks.find_two_bytes(bytes[k], bytes[k + 1]) : kNoRank;
    parts[k] = pack(pair_rank, k, ranks.find_byte(bytes[k]));
    next[k] = static_cast<std::uint8_t>(k + 1);
    prev[k] = static_cast<std::uint8_t>(k - 1);
  }
  next[n] = static_cast<std::uint8_t>(n);
  parts[n] = kDead;
  // Rank of the bytes [from, to), at least 3 of them.
  auto rank_of = [&](std::size_t from, std::size_t to) -> std::uint32_t {
    const std::size_t length = to - from;
    std::uint64_t first;
    std::memcpy(&first, bytes + from, 8);
    if (length <= 8) return ranks.find_short(length == 8 ? first : first & ((std::uint64_t{1} << (length * 8)) - 1), length);
    if (length > 16) return ranks.find_long(piece.substr(from, length));
    std::uint64_t rest;
    std::memcpy(&rest, bytes + from + 8, 8);
    if (length < 16) rest &= (std::uint64_t{1} << ((length - 8) * 8)) - 1;
    return ranks.find_medium(first, rest, length);
  };
  for (;;) {
    // Two running minima halve the dependency chain of the scan; parts[n] (kDead) pads an odd n.
    std::uint64_t best = kDead, best_odd = kDead;
    for (std::size_t k = 0; k < n; k += 2) {
      best = parts[k] < best ? parts[k] : best;
      best_odd = parts[k + 1] < best_odd ? parts[k + 1] : best_odd;
    }
    best = best_odd < best ? best_odd : best;
    const auto merged_rank = static_cast<std::uint32_t>(best >> 32);
    if (merged_rank == kNoRank) break;
    // Merge the part after s into s.
    const std::size_t s = (best >> 24) & 0xFF;
    const std::size_t gone = next[s];
    parts[gone] = kDead;
    const std::size_t after = next[gone];
    next[s] = static_cast<std::uint8_t>(after);
    if (after < n) prev[after] = static_cast<std::uint8_t>(s);
    parts[s] = pack(after < n ? rank_of(s, next[after]) : kNoRank, s, merged_rank);
    if (s > 0) {
      const std::size_t p = prev[s];
      parts[p] = pack(rank_of(p, after), p, static_cast<std::uint32_t>(parts[p] & 0xFFFFFF));
    }
  }
  for (std::size_t k = 0; k < n; k = next[k]) emit(static_cast<std::uint32_t>(parts[k] & 0xFFFFFF));
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
  if (piece.size() <= kSmallPiece && ranks.rank_count() <= (1u << 24)) merge_small(ranks, piece, emit);
  else merge_large(ranks, piece, emit);
}

}  // namespace

void byte_pair_encode(const RankTable& ranks, std::string_view piece, std::vector<std::uint32_t>& out) {
  merge(ranks, piece, [&](std::uint32_t rank) { out.push_back(rank); });
}

std::size_t byte_pair_encode_small(const RankTable& ranks, std::string_view piece, std::uint32_t* out) {
  std::size_t count = 0;
  merge(ranks, piece, [&](std::uint32_t rank) { out[count++] = rank; });
  return count;
}

std::size_t byte_pair_count(const RankTable& ranks, std::string_view piece) {
  std::size_t count = 0;
  merge(ranks, piece, [&](std::uint32_t) { ++count; });
  return count;
}

}  // namespace tollway::tokens
