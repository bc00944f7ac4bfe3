// PieceCache: a small per-thread, direct-mapped memo of "piece bytes -> token ids" for pieces that needed
// byte-pair merging, keyed by the encoding's unique id. Entries are one cache line (pieces up to 26 bytes, up to 8
// tokens) and the whole cache is 128 KiB, so probing it costs less than the merge it saves. Only an accelerator:
// a miss or an uncacheable piece falls back to merging; it never changes a result, never grows and never shares
// state between threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tollway::tokens {

class PieceCache {
 public:
  static constexpr std::size_t kMinPieceBytes = 9;  // shorter pieces merge faster than a cache probe
  static constexpr std::size_t kMaxPieceBytes = 26;
  static constexpr std::size_t kMaxTokens = 8;
  static constexpr std::size_t kEntries = 2048;

  struct alignas(64) Entry {
    std::uint32_t owner = 0;  // Encoding id (low 32 bits); 0 = empty
    std::uint8_t length = 0;
    std::uint8_t token_count = 0;
    char bytes[kMaxPieceBytes];
    std::uint32_t ids[kMaxTokens];
  };
  static_assert(sizeof(Entry) == 64);

  // The entry slot for (owner, hash of the piece): a hit when hit(slot, owner, piece) is true.
  static Entry& slot(std::uint32_t owner, std::uint64_t piece_hash) {
    thread_local Entry entries[kEntries];
    return entries[index(owner, piece_hash)];
  }

  static std::size_t index(std::uint32_t owner, std::uint64_t piece_hash) {
    return static_cast<std::size_t>((piece_hash >> 20) ^ owner) & (kEntries - 1);
  }

  static bool hit(const Entry& e, std::uint32_t owner, std::string_view piece) {
    return e.owner == owner && e.length == piece.size() && std::memcmp(e.bytes, piece.data(), piece.size()) == 0;
  }

  static void store(Entry& e, std::uint32_t owner, std::string_view piece, const std::uint32_t* ids, std::size_t count) {
    e.owner = owner;
    e.length = static_cast<std::uint8_t>(piece.size());
    e.token_count = static_cast<std::uint8_t>(count);
    std::memcpy(e.bytes, piece.data(), piece.size());
    std::memcpy(e.ids, ids, count * sizeof(std::uint32_t));
  }
};

}  // namespace tollway::tokens
