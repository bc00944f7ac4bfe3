// PackedKeyTable<Words>: a read-only hash map from short byte strings (up to 8 * Words bytes, packed
// little-endian into Words uint64 with zero padding, plus the length) to a uint32 rank, viewing arrays it does
// not own: either a PackedKeyArrays filled at parse time or the static arrays the build generated from the rank
// files (tokens/embedded_ranks.h). Slots hold the key itself, so a hit needs no second memory access. Buckets of
// 8 slots; one fingerprint byte per slot lives in a separate array 8x smaller than the slots (it stays in
// cache), so a lookup that fails — most lookups of the BPE merge loop do — usually touches no slot at all.
// PackedKeyArrays is the only writer (never more than 5/8 full); a table never outlives the arrays it views.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tollway::tokens {

inline constexpr std::uint32_t kPackedKeyAbsent = 0xFFFFFFFFu;
inline constexpr std::size_t kPackedKeyBucket = 8;

template <std::size_t Words>
struct PackedKeySlot {
  std::array<std::uint64_t, Words> key{};
  std::uint32_t rank = kPackedKeyAbsent;
  std::uint32_t length = 0;
};

// The hashing both the writer and the reader use; the bucket count is a power of two.
template <std::size_t Words>
struct PackedKeyHash {
  using Key = std::array<std::uint64_t, Words>;
  static std::uint64_t of(const Key& key, std::size_t length) {
    std::uint64_t h = key[0] ^ (std::uint64_t{length} << 58);
    for (std::size_t w = 1; w < Words; ++w) h = (h * 0xBF58476D1CE4E5B9ULL) ^ key[w];
    return h * 0x9E3779B97F4A7C15ULL;
  }
  // A nonzero byte from hash bits that do not pick the bucket (0 marks a free slot).
  static std::uint64_t fingerprint(std::uint64_t h) {
    const std::uint64_t f = (h >> 24) & 0xFF;
    return f == 0 ? 1 : f;
  }
  static int shift_for(std::size_t buckets) { return 64 - std::countr_zero(buckets); }
};

template <std::size_t Words>
class PackedKeyTable {
 public:
  using Key = std::array<std::uint64_t, Words>;
  using Slot = PackedKeySlot<Words>;
  static constexpr std::uint32_t kAbsent = kPackedKeyAbsent;

  PackedKeyTable() = default;
  // prints: one uint64 per bucket (a power of two, at least 2); slots: 8 per bucket.
  PackedKeyTable(std::span<const std::uint64_t> prints, std::span<const Slot> slots)
      : prints_(prints.data()),
        slots_(slots.data()),
        mask_(prints.size() - 1),
        shift_(PackedKeyHash<Words>::shift_for(prints.size())),
        buckets_(prints.size()) {}

  std::uint32_t find(const Key& key, std::size_t length) const {
    const std::uint64_t h = PackedKeyHash<Words>::of(key, length);
    std::size_t b = static_cast<std::size_t>(h >> shift_);
    const std::uint64_t wanted = kLowBytes * PackedKeyHash<Words>::fingerprint(h);
    for (;;) {
      const std::uint64_t prints = prints_[b];
      const std::uint64_t x = prints ^ wanted;
      // High bit set in every byte of x that is zero (and maybe in bytes above one: the key check sorts it out).
      std::uint64_t match = (x - kLowBytes) & ~x & kHighBytes;
      while (match) {
        const Slot& s = slots_[b * kPackedKeyBucket + static_cast<std::size_t>(__builtin_ctzll(match)) / 8];
        if (s.length == length && same_key(s.key, key)) return s.rank;
        match &= match - 1;
      }
      if ((prints - kLowBytes) & ~prints & kHighBytes) return kAbsent;  // the bucket has a free slot
      b = (b + 1) & mask_;
    }
  }

  std::span<const std::uint64_t> prints() const { return {prints_, buckets_}; }
  std::span<const Slot> slots() const { return {slots_, buckets_ * kPackedKeyBucket}; }

 private:
  static constexpr std::uint64_t kLowBytes = 0x0101010101010101ULL;
  static constexpr std::uint64_t kHighBytes = 0x8080808080808080ULL;

  static bool same_key(const Key& a, const Key& b) {
    bool same = true;
    for (std::size_t w = 0; w < Words; ++w) same &= a[w] == b[w];  // not std::array's ==, which calls memcmp
    return same;
  }

  const std::uint64_t* prints_ = nullptr;
  const Slot* slots_ = nullptr;
  std::size_t mask_ = 0;
  int shift_ = 63;
  std::size_t buckets_ = 0;
};

// The arrays of one PackedKeyTable while a rank file is parsed: sized once, then filled by insert.
template <std::size_t Words>
struct PackedKeyArrays {
  std::vector<std::uint64_t> prints;
  std::vector<PackedKeySlot<Words>> slots;

  // Sized for up to `capacity` keys.
  void reserve(std::size_t capacity) {
    std::size_t buckets = 2;
    while (buckets * kPackedKeyBucket * 5 < capacity * 8) buckets <<= 1;
    prints.assign(buckets, 0);
    slots.assign(buckets * kPackedKeyBucket, PackedKeySlot<Words>{});
  }

  // Adds a key that is not in the table yet (the caller checks duplicates); at most the reserved count.
  void insert(const std::array<std::uint64_t, Words>& key, std::size_t length, std::uint32_t rank) {
    const std::uint64_t h = PackedKeyHash<Words>::of(key, length);
    const std::size_t mask = prints.size() - 1;
    for (std::size_t b = static_cast<std::size_t>(h >> PackedKeyHash<Words>::shift_for(prints.size()));;
         b = (b + 1) & mask) {
      std::size_t i = 0;
      while (i < kPackedKeyBucket && ((prints[b] >> (i * 8)) & 0xFF) != 0) ++i;
      if (i == kPackedKeyBucket) continue;
      prints[b] |= PackedKeyHash<Words>::fingerprint(h) << (i * 8);
      slots[b * kPackedKeyBucket + i] = PackedKeySlot<Words>{key, rank, static_cast<std::uint32_t>(length)};
      return;
    }
  }

  PackedKeyTable<Words> table() const { return PackedKeyTable<Words>(prints, slots); }
};

}  // namespace tollway::tokens
