// PieceCache: a small per-thread, direct-mapped memo of "piece bytes -> token ids" for pieces that needed
// byte-pair merging, keyed by the encoding's unique id. Entries are one cache line (pieces up to 32 bytes, up to 6
// tokens) and the whole cache is 128 KiB, so probing it costs less than the merge it saves. Only an accelerator:
// a miss or an uncacheable piece falls back to merging; it never changes a result, never grows and never shares
// state between threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace tollway::tokens {

class PieceCache {
 public:
  static constexpr std::size_t kMinPieceBytes = 9;  // shorter pieces merge faster than a cache probe
  static constexpr std::size_t kMaxPieceBytes = 32;
  static constexpr std::size_t kMaxTokens = 6;
  static constexpr std::size_t kEntries = 2048;

  struct alignas(64) Entry {
    std::uint32_t owner = 0;  // Encoding id (low 32 bits); 0 = empty
    std::uint8_t length = 0;
    std::uint8_t token_count = 0;
    std::uint8_t unused[2] = {};
    char bytes[kMaxPieceBytes];  // the piece, zero-padded to a multiple of 8 bytes
    std::uint32_t ids[kMaxTokens];
  };
  static_assert(sizeof(Entry) == 64);

  // The entry slot for (owner, hash of the piece): a hit when hit(slot, owner, piece) is true.
  static Entry& slot(std::uint32_t owner, std::uint64_t piece_hash) {
    // On the heap, made on first use: a thread that never tokenizes (the control thread, Asio's resolver)
    // keeps no 128 KiB of cache in its TLS block.
    thread_local std::unique_ptr<Entry[]> entries(new Entry[kEntries]);
    return entries[index(owner, piece_hash)];
  }

  static std::size_t index(std::uint32_t owner, std::uint64_t piece_hash) {
    return static_cast<std::size_t>((piece_hash >> 20) ^ owner) & (kEntries - 1);
  }

  static bool hit(const Entry& e, std::uint32_t owner, std::string_view piece) {
    if (e.owner != owner || e.length != piece.size()) return false;
    std::uint64_t diff = 0;
    for_each_word(piece, [&](std::size_t at, std::uint64_t word) {
      std::uint64_t cached;
      std::memcpy(&cached, e.bytes + at, 8);
      diff |= cached ^ word;
    });
    return diff == 0;
  }

  static void store(Entry& e, std::uint32_t owner, std::string_view piece, const std::uint32_t* ids, std::size_t count) {
    e.owner = owner;
    e.length = static_cast<std::uint8_t>(piece.size());
    e.token_count = static_cast<std::uint8_t>(count);
    for_each_word(piece, [&](std::size_t at, std::uint64_t word) { std::memcpy(e.bytes + at, &word, 8); });
    for (std::size_t k = 0; k < count; ++k) e.ids[k] = ids[k];
  }

 private:
  // Calls f(offset, 8 bytes of piece from offset, zero-padded) for offsets 0, 8, 16, ... below piece.size()
  // (<= kMaxPieceBytes, a multiple of 8), reading only the piece's bytes.
  template <class F>
  static void for_each_word(std::string_view piece, F&& f) {
    const auto* p = reinterpret_cast<const unsigned char*>(piece.data());
    const std::size_t n = piece.size() < kMaxPieceBytes ? piece.size() : kMaxPieceBytes;  // callers check the size
    std::size_t at = 0;
    for (; at + 8 <= n; at += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + at, 8);
      f(at, word);
    }
    if (at < n) {
      std::uint64_t word = 0;
      for (std::size_t k = at; k < n; ++k) word |= std::uint64_t{p[k]} << ((k - at) * 8);
      f(at, word);
    }
  }
};

}  // namespace tollway::tokens
