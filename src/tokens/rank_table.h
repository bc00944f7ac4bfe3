// RankTable: the mergeable ranks of one encoding (byte string -> rank), parsed once from a `.tiktoken` file
// and then read-only, so any number of threads may share it. Lookups are an open-addressing hash over the
// token bytes kept in one arena; decoding is an index by rank. Never mutated after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::tokens {

inline constexpr std::uint32_t kNoRank = 0xFFFFFFFFu;

class RankTable {
 public:
  // Parses the text of a `.tiktoken` file ("<base64 token> <rank>" per line). Throws std::runtime_error with
  // the line number when the file is malformed or has duplicate tokens/ranks.
  static RankTable parse(std::string_view file_text);

  // Rank of exactly these bytes, or kNoRank.
  std::uint32_t find(std::string_view bytes) const {
    if (bytes.size() > max_token_length_ || bytes.empty()) return kNoRank;
    const std::uint64_t h = hash(bytes);
    std::size_t slot = static_cast<std::size_t>(h >> shift_);
    const std::uint32_t tag = static_cast<std::uint32_t>(h);
    for (;;) {
      const Slot& s = slots_[slot];
      if (s.rank == kNoRank) return kNoRank;
      if (s.tag == tag) {
        const Span& t = tokens_[s.rank];
        if (t.length == bytes.size() && std::string_view(arena_.data() + t.offset, t.length) == bytes) return s.rank;
      }
      slot = (slot + 1) & mask_;
    }
  }

  // Bytes of a rank; empty when the rank has no token (holes in the file, or out of range).
  std::string_view bytes_of(std::uint32_t rank) const {
    if (rank >= tokens_.size()) return {};
    const Span& t = tokens_[rank];
    return std::string_view(arena_.data() + t.offset, t.length);
  }

  // One more than the largest rank.
  std::uint32_t rank_count() const { return static_cast<std::uint32_t>(tokens_.size()); }
  std::size_t token_count() const { return count_; }

  static std::uint64_t hash(std::string_view bytes);

 private:
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t rank = kNoRank;
  };
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  void insert(std::uint32_t rank);

  std::string arena_;
  std::vector<Span> tokens_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t max_token_length_ = 0;
  std::size_t count_ = 0;
};

}  // namespace tollway::tokens
