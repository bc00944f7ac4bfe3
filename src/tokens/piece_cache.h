// PieceCache: a small per-thread, direct-mapped memo of "piece bytes -> token ids" for pieces that needed
// byte-pair merging, keyed by the encoding's unique id. Text repeats its words, so most merges are done once.
// Only an accelerator: a miss or an uncacheable piece falls back to merging; it never changes a result, never
// grows (fixed 4096 entries per thread) and never shares state between threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tollway::tokens {

class PieceCache {
 public:
  static constexpr std::size_t kMaxPieceBytes = 62;
  static constexpr std::size_t kMaxTokens = 24;

  struct Entry {
    std::uint64_t owner = 0;  // Encoding id; 0 = empty
    std::uint8_t length = 0;
    std::uint8_t token_count = 0;
    char bytes[kMaxPieceBytes];
    std::uint32_t ids[kMaxTokens];
  };

  // The entry slot for (owner, hash of the piece): a hit when hit(slot, owner, piece) is true.
  static Entry& slot(std::uint64_t owner, std::uint64_t piece_hash) {
    thread_local Entry entries[kEntries];
    return entries[(piece_hash ^ (owner * 0x9E3779B97F4A7C15ULL)) & (kEntries - 1)];
  }

  static bool hit(const Entry& e, std::uint64_t owner, std::string_view piece) {
    return e.owner == owner && e.length == piece.size() && std::memcmp(e.bytes, piece.data(), piece.size()) == 0;
  }

 private:
  static constexpr std::size_t kEntries = 4096;
};

}  // namespace tollway::tokens
