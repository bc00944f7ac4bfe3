// RankTable: the mergeable ranks of one encoding (byte string -> rank), read-only, so any number of threads may
// share it. Lookups: direct tables for 1- and 2-byte strings, PackedKeyTables keyed by the bytes themselves for
// 3..8 and 9..16 bytes, an open-addressing hash (over the token bytes kept in one arena) holding only the tokens
// longer than 16 bytes; decoding is an index by rank. All of it is a RankTableLayout: arrays that parse() builds
// from a `.tiktoken` file, or that the build generated from the same parse as static data (tokens/embedded_ranks.h),
// which a RankTable wraps without copying or reading them. Never mutated after construction.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "tokens/packed_key_table.h"

namespace tollway::tokens {

inline constexpr std::uint32_t kNoRank = 0xFFFFFFFFu;

// Where rank's token bytes are in the arena.
struct RankSpan {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};
// One slot of the open-addressing table of tokens longer than 16 bytes.
struct LongTokenSlot {
  std::uint32_t tag = 0;
  std::uint32_t rank = kNoRank;
};

// Every array of a RankTable, as spans. The table sizes are powers of two; the hash shifts follow from them.
struct RankTableLayout {
  std::string_view arena;                     // every token's bytes, concatenated
  std::span<const RankSpan> tokens;           // by rank; holes have length 0
  std::span<const LongTokenSlot> long_slots;  // tokens longer than 16 bytes
  std::span<const std::uint64_t> short_prints;
  std::span<const PackedKeySlot<1>> short_slots;  // tokens of 3..8 bytes
  std::span<const std::uint64_t> medium_prints;
  std::span<const PackedKeySlot<2>> medium_slots;  // tokens of 9..16 bytes
  std::span<const std::uint32_t, 256> one_byte;
  std::span<const std::uint32_t, 65536> two_byte;
  std::uint32_t max_token_length = 0;
  std::uint32_t token_count = 0;
};

class RankTable {
 public:
  // Parses the text of a `.tiktoken` file ("<base64 token> <rank>" per line) into arrays the table owns. Throws
  // std::runtime_error with the line number when the file is malformed or has duplicate tokens/ranks.
  static RankTable parse(std::string_view file_text);

  // Wraps arrays that live as long as the program (the build's static tables); reads none of them.
  explicit RankTable(const RankTableLayout& static_arrays);

  // The arrays, for the build step that writes them out as static data and for tests that compare.
  const RankTableLayout& layout() const { return layout_; }

  // Rank of exactly these bytes, or kNoRank. One- and two-byte strings are direct table reads; 3..16 bytes are
  // PackedKeyTable lookups (usually one in-cache fingerprint read, one slot read on a hit); longer ones probe the
  // general table.
  std::uint32_t find(std::string_view bytes) const {
    const std::size_t n = bytes.size();
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    if (n == 2) return layout_.two_byte[(std::size_t{p[0]} << 8) | p[1]];
    if (n == 1) return layout_.one_byte[p[0]];
    if (n <= 8) return n == 0 ? kNoRank : find_short(load_key(p, n), n);
    if (n <= 16) {
      std::uint64_t first;
      std::memcpy(&first, p, 8);
      return find_medium(first, load_key(p + 8, n - 8), n);
    }
    return find_long(bytes);
  }

  std::uint32_t find_byte(unsigned char b) const { return layout_.one_byte[b]; }
  std::uint32_t find_two_bytes(unsigned char a, unsigned char b) const { return layout_.two_byte[(std::size_t{a} << 8) | b]; }
  // n = 3..8 bytes packed by load_key.
  std::uint32_t find_short(std::uint64_t key, std::size_t n) const { return short_.find({key}, n); }
  // n = 9..16 bytes: the first 8 as one little-endian word, the rest packed by load_key.
  std::uint32_t find_medium(std::uint64_t first, std::uint64_t rest, std::size_t n) const {
    return medium_.find({first, rest}, n);
  }

  std::uint32_t find_long(std::string_view bytes) const {
    const std::size_t n = bytes.size();
    if (n > layout_.max_token_length) return kNoRank;
    const std::uint64_t h = hash(bytes);
    std::size_t slot = static_cast<std::size_t>(h >> long_shift_);
    const std::uint32_t tag = static_cast<std::uint32_t>(h);
    for (;;) {
      const LongTokenSlot& s = layout_.long_slots[slot];
      if (s.rank == kNoRank) return kNoRank;
      if (s.tag == tag) {
        const RankSpan& t = layout_.tokens[s.rank];
        if (t.length == n && same_bytes(layout_.arena.data() + t.offset, bytes.data(), n)) return s.rank;
      }
      slot = (slot + 1) & long_mask_;
    }
  }

  // The n (1..8) bytes at p as a little-endian integer, zero above byte n; reads only p[0..n-1].
  static std::uint64_t load_key(const unsigned char* p, std::size_t n) {
    if (n >= 4) {
      std::uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      return std::uint64_t{lo} | (std::uint64_t{hi} << ((n - 4) * 8));
    }
    return std::uint64_t{p[0]} | (std::uint64_t{p[n / 2]} << (n / 2 * 8)) | (std::uint64_t{p[n - 1]} << ((n - 1) * 8));
  }

  // Bytes of a rank; empty when the rank has no token (holes in the file, or out of range).
  std::string_view bytes_of(std::uint32_t rank) const {
    if (rank >= layout_.tokens.size()) return {};
    const RankSpan& t = layout_.tokens[rank];
    return layout_.arena.substr(t.offset, t.length);
  }

  // One more than the largest rank.
  std::uint32_t rank_count() const { return static_cast<std::uint32_t>(layout_.tokens.size()); }
  std::size_t token_count() const { return layout_.token_count; }

  // Multiply-xorshift over 8-byte words; the top bits pick the slot, the low 32 bits are the tag.
  static std::uint64_t hash(std::string_view bytes) {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = 0x243F6A8885A308D3ULL ^ (bytes.size() * kMul);
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    while (n >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * kMul;
      h ^= h >> 29;
      p += 8;
      n -= 8;
    }
    if (n) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, n);
      h = (h ^ w) * kMul;
      h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
  }

 private:
  struct OwnedArrays;
  RankTable(std::shared_ptr<const OwnedArrays> owned, const RankTableLayout& layout);
  static int long_shift_for(std::size_t slots);
  static bool same_bytes(const char* a, const char* b, std::size_t n) {
    while (n >= 8) {
      std::uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
      a += 8; b += 8; n -= 8;
    }
    for (std::size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }

  std::shared_ptr<const OwnedArrays> owned_;  // null for static arrays
  RankTableLayout layout_;
  PackedKeyTable<1> short_;   // tokens of 3..8 bytes
  PackedKeyTable<2> medium_;  // tokens of 9..16 bytes
  std::size_t long_mask_ = 0;
  int long_shift_ = 64;
};

}  // namespace tollway::tokens
