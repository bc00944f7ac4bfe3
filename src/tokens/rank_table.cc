#include "tokens/rank_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace tollway::tokens {
namespace {

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0 || in.empty()) return false;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const unsigned char c = static_cast<unsigned char>(in[i + k]);
      if (c == '=' && i + 4 == in.size() && k >= 2) { v[k] = 0; ++pad; continue; }
      if (pad) return false;
      v[k] = base64_value(c);
      if (v[k] < 0) return false;
    }
    const std::uint32_t w = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>(w >> 16));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xFF));
  }
  return true;
}

// The long-token table: open addressing over a power-of-two number of slots, at most half full.
void size_long_table(std::vector<LongTokenSlot>& slots, std::size_t count) {
  std::size_t capacity = 2;
  while (capacity < count * 2) capacity <<= 1;
  slots.assign(capacity, LongTokenSlot{});
}

}  // namespace

struct RankTable::OwnedArrays {
  std::string arena;
  std::vector<RankSpan> tokens;
  std::vector<LongTokenSlot> long_slots;
  PackedKeyArrays<1> short_keys;
  PackedKeyArrays<2> medium_keys;
  std::vector<std::uint32_t> one_byte = std::vector<std::uint32_t>(256, kNoRank);
  std::vector<std::uint32_t> two_byte = std::vector<std::uint32_t>(65536, kNoRank);
  std::uint32_t max_token_length = 0;
  std::uint32_t token_count = 0;

  std::string_view bytes_of(std::uint32_t rank) const {
    return std::string_view(arena).substr(tokens[rank].offset, tokens[rank].length);
  }

  // Adds rank to the long-token table; throws when the same bytes are there already.
  void insert_long(std::uint32_t rank) {
    const std::string_view bytes = bytes_of(rank);
    const std::uint64_t h = RankTable::hash(bytes);
    const std::size_t mask = long_slots.size() - 1;
    for (std::size_t slot = static_cast<std::size_t>(h >> long_shift_for(long_slots.size()));; slot = (slot + 1) & mask) {
      LongTokenSlot& s = long_slots[slot];
      if (s.rank == kNoRank) {
        s = LongTokenSlot{static_cast<std::uint32_t>(h), rank};
        return;
      }
      if (s.tag == static_cast<std::uint32_t>(h) && bytes_of(s.rank) == bytes)
        throw std::runtime_error("rank file lists the same token twice (ranks " + std::to_string(s.rank) + " and " +
                                 std::to_string(rank) + ")");
    }
  }

  // Adds rank's token to the table that answers for its length (and, during parse, to the long-token table,
  // which then holds every token to find duplicates).
  void insert(std::uint32_t rank) {
    const std::string_view bytes = bytes_of(rank);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::uint32_t* direct = bytes.size() == 1 ? &one_byte[p[0]]
                            : bytes.size() == 2 ? &two_byte[(std::size_t{p[0]} << 8) | p[1]] : nullptr;
    if (direct) {
      if (*direct != kNoRank)
        throw std::runtime_error("rank file lists the same token twice (ranks " + std::to_string(*direct) + " and " +
                                 std::to_string(rank) + ")");
      *direct = rank;
    }
    insert_long(rank);
    const std::size_t n = bytes.size();
    if (n >= 3 && n <= 8) short_keys.insert({load_key(p, n)}, n, rank);
    if (n >= 9 && n <= 16) {
      std::uint64_t first;
      std::memcpy(&first, p, 8);
      medium_keys.insert({first, load_key(p + 8, n - 8)}, n, rank);
    }
  }

  RankTableLayout layout() const {
    return RankTableLayout{arena,
                           tokens,
                           long_slots,
                           short_keys.prints,
                           short_keys.slots,
                           medium_keys.prints,
                           medium_keys.slots,
                           std::span<const std::uint32_t, 256>(one_byte.data(), 256),
                           std::span<const std::uint32_t, 65536>(two_byte.data(), 65536),
                           max_token_length,
                           token_count};
  }
};

int RankTable::long_shift_for(std::size_t slots) { return 64 - std::countr_zero(slots); }

RankTable::RankTable(const RankTableLayout& static_arrays) : RankTable(nullptr, static_arrays) {}

RankTable::RankTable(std::shared_ptr<const OwnedArrays> owned, const RankTableLayout& layout)
    : owned_(std::move(owned)),
      layout_(layout),
      short_(layout.short_prints, layout.short_slots),
      medium_(layout.medium_prints, layout.medium_slots),
      long_mask_(layout.long_slots.size() - 1),
      long_shift_(long_shift_for(layout.long_slots.size())) {}

RankTable RankTable::parse(std::string_view text) {
  auto table = std::make_shared<OwnedArrays>();
  std::vector<std::pair<std::uint32_t, RankSpan>> entries;
  std::string decoded;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t sp = line.find(' ');
    auto fail = [&](const char* what) {
      throw std::runtime_error("rank file line " + std::to_string(line_no) + ": " + what);
    };
    if (sp == std::string_view::npos) fail("expected '<base64> <rank>'");
    if (!base64_decode(line.substr(0, sp), decoded)) fail("bad base64 token");
    const std::string_view num = line.substr(sp + 1);
    if (num.empty() || num.size() > 9) fail("bad rank");
    std::uint32_t rank = 0;
    for (char c : num) {
      if (c < '0' || c > '9') fail("bad rank");
      rank = rank * 10 + static_cast<std::uint32_t>(c - '0');
    }
    entries.push_back({rank, RankSpan{static_cast<std::uint32_t>(table->arena.size()), static_cast<std::uint32_t>(decoded.size())}});
    table->arena.append(decoded);
    table->max_token_length = std::max(table->max_token_length, static_cast<std::uint32_t>(decoded.size()));
  }
  if (entries.empty()) throw std::runtime_error("rank file is empty");
  std::uint32_t max_rank = 0;
  for (const auto& e : entries) max_rank = std::max(max_rank, e.first);
  table->tokens.assign(static_cast<std::size_t>(max_rank) + 1, RankSpan{});
  std::vector<bool> seen(static_cast<std::size_t>(max_rank) + 1, false);
  for (const auto& e : entries) {
    if (seen[e.first]) throw std::runtime_error("rank file lists rank " + std::to_string(e.first) + " twice");
    seen[e.first] = true;
    table->tokens[e.first] = e.second;
  }
  size_long_table(table->long_slots, entries.size());
  std::size_t short_count = 0, medium_count = 0;
  for (const auto& e : entries) {
    short_count += e.second.length >= 3 && e.second.length <= 8;
    medium_count += e.second.length >= 9 && e.second.length <= 16;
  }
  table->short_keys.reserve(short_count);
  table->medium_keys.reserve(medium_count);
  for (const auto& e : entries) table->insert(e.first);  // also rejects duplicate tokens
  // From here on the long-token table only answers for tokens longer than 16 bytes (the packed-key tables hold
  // the rest), so keep just those: a few thousand entries that stay in cache instead of every token.
  std::size_t long_count = 0;
  for (const auto& e : entries) long_count += e.second.length > 16;
  size_long_table(table->long_slots, long_count);
  for (const auto& e : entries)
    if (e.second.length > 16) table->insert_long(e.first);
  table->token_count = static_cast<std::uint32_t>(entries.size());
  const RankTableLayout layout = table->layout();
  return RankTable(std::move(table), layout);
}

}  // namespace tollway::tokens
