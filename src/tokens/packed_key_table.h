// PackedKeyTable<Words>: a read-mostly hash map from short byte strings (up to 8 * Words bytes, packed
// little-endian into Words uint64 with zero padding, plus the length) to a uint32 rank. Slots hold the key
// itself, so a hit needs no second memory access. Buckets of 8 slots; one fingerprint byte per slot lives in a
// separate array 8x smaller than the slots (it stays in cache), so a lookup that fails — most lookups of the BPE
// merge loop do — usually touches no slot at all. Filled once by insert() (never more than 5/8 full), then only
// read; safe to share between threads after that.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tollway::tokens {

template <std::size_t Words>
class PackedKeyTable {
 public:
  using Key = std::array<std::uint64_t, Words>;
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  // Sized for up to `capacity` keys.
  void reserve(std::size_t capacity) {
    std::size_t buckets = 2;
    int bits = 1;
    while (buckets * kBucket * 5 < capacity * 8) { buckets <<= 1; ++bits; }
    prints_.assign(buckets, 0);
    slots_.assign(buckets * kBucket, Slot{});
    mask_ = buckets - 1;
    shift_ = 64 - bits;
  }

  // Adds a key that is not in the table yet (the caller checks duplicates); at most the reserved count.
  void insert(const Key& key, std::size_t length, std::uint32_t rank) {
    const std::uint64_t h = hash(key, length);
    for (std::size_t b = static_cast<std::size_t>(h >> shift_);; b = (b + 1) & mask_) {
      std::size_t i = 0;
      while (i < kBucket && ((prints_[b] >> (i * 8)) & 0xFF) != 0) ++i;
      if (i == kBucket) continue;
      prints_[b] |= fingerprint(h) << (i * 8);
      slots_[b * kBucket + i] = Slot{key, rank, static_cast<std::uint32_t>(length)};
      return;
    }
  }

  std::uint32_t find(const Key& key, std::size_t length) const {
    const std::uint64_t h = hash(key, length);
    std::size_t b = static_cast<std::size_t>(h >> shift_);
    const std::uint64_t wanted = kLowBytes * fingerprint(h);
    for (;;) {
      const std::uint64_t prints = prints_[b];
      const std::uint64_t x = prints ^ wanted;
      // High bit set in every byte of x that is zero (and maybe in bytes above one: the key check sorts it out).
      std::uint64_t match = (x - kLowBytes) & ~x & kHighBytes;
      while (match) {
        const Slot& s = slots_[b * kBucket + static_cast<std::size_t>(__builtin_ctzll(match)) / 8];
        if (s.length == length && same_key(s.key, key)) return s.rank;
        match &= match - 1;
      }
      if ((prints - kLowBytes) & ~prints & kHighBytes) return kAbsent;  // the bucket has a free slot
      b = (b + 1) & mask_;
    }
  }

 private:
  static constexpr std::size_t kBucket = 8;
  static constexpr std::uint64_t kLowBytes = 0x0101010101010101ULL;
  static constexpr std::uint64_t kHighBytes = 0x8080808080808080ULL;

  struct Slot {
    Key key{};
    std::uint32_t rank = kAbsent;
    std::uint32_t length = 0;
  };

  static bool same_key(const Key& a, const Key& b) {
    bool same = true;
    for (std::size_t w = 0; w < Words; ++w) same &= a[w] == b[w];  // not std::array's ==, which calls memcmp
    return same;
  }
  static std::uint64_t hash(const Key& key, std::size_t length) {
    std::uint64_t h = key[0] ^ (std::uint64_t{length} << 58);
    for (std::size_t w = 1; w < Words; ++w) h = (h * 0xBF58476D1CE4E5B9ULL) ^ key[w];
    return h * 0x9E3779B97F4A7C15ULL;
  }
  // A nonzero byte from hash bits that do not pick the bucket (0 marks a free slot).
  static std::uint64_t fingerprint(std::uint64_t h) {
    const std::uint64_t f = (h >> 24) & 0xFF;
    return f == 0 ? 1 : f;
  }

  std::vector<std::uint64_t> prints_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 63;
};

}  // namespace tollway::tokens
