#include "tokens/rank_table.h"

#include <cstring>
#include <stdexcept>

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

}  // namespace

void RankTable::insert(std::uint32_t rank) {
  const Span& t = tokens_[rank];
  const std::string_view bytes(arena_.data() + t.offset, t.length);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::uint32_t* direct = bytes.size() == 1 ? &one_byte_[p[0]]
                          : bytes.size() == 2 ? &two_byte_[(std::size_t{p[0]} << 8) | p[1]] : nullptr;
  if (direct) {
    if (*direct != kNoRank)
      throw std::runtime_error("rank file lists the same token twice (ranks " + std::to_string(*direct) + " and " +
                               std::to_string(rank) + ")");
    *direct = rank;
  }
  insert_general(rank);
  const std::size_t n = bytes.size();
  if (n >= 3 && n <= 8) short_.insert({load_key(p, n)}, n, rank);
  if (n >= 9 && n <= 16) {
    std::uint64_t first;
    std::memcpy(&first, p, 8);
    medium_.insert({first, load_key(p + 8, n - 8)}, n, rank);
  }
}

void RankTable::insert_general(std::uint32_t rank) {
  const std::string_view bytes = bytes_of(rank);
  const std::uint64_t h = hash(bytes);
  std::size_t slot = static_cast<std::size_t>(h >> shift_);
  for (;;) {
    Slot& s = slots_[slot];
    if (s.rank == kNoRank) {
      s.rank = rank;
      s.tag = static_cast<std::uint32_t>(h);
      return;
    }
    if (s.tag == static_cast<std::uint32_t>(h) && bytes_of(s.rank) == bytes)
      throw std::runtime_error("rank file lists the same token twice (ranks " + std::to_string(s.rank) + " and " +
                               std::to_string(rank) + ")");
    slot = (slot + 1) & mask_;
  }
}

RankTable RankTable::parse(std::string_view text) {
  RankTable table;
  std::vector<std::pair<std::uint32_t, Span>> entries;
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
    entries.push_back({rank, Span{static_cast<std::uint32_t>(table.arena_.size()), static_cast<std::uint32_t>(decoded.size())}});
    table.arena_.append(decoded);
    if (decoded.size() > table.max_token_length_) table.max_token_length_ = decoded.size();
  }
  if (entries.empty()) throw std::runtime_error("rank file is empty");
  std::uint32_t max_rank = 0;
  for (const auto& e : entries) max_rank = std::max(max_rank, e.first);
  table.tokens_.assign(static_cast<std::size_t>(max_rank) + 1, Span{});
  std::vector<bool> seen(static_cast<std::size_t>(max_rank) + 1, false);
  for (const auto& e : entries) {
    if (seen[e.first]) throw std::runtime_error("rank file lists rank " + std::to_string(e.first) + " twice");
    seen[e.first] = true;
    table.tokens_[e.first] = e.second;
  }
  table.size_general_table(entries.size());
  std::size_t short_count = 0, medium_count = 0;
  for (const auto& e : entries) {
    short_count += e.second.length >= 3 && e.second.length <= 8;
    medium_count += e.second.length >= 9 && e.second.length <= 16;
  }
  table.short_.reserve(short_count);
  table.medium_.reserve(medium_count);
  for (const auto& e : entries) table.insert(e.first);  // also rejects duplicate tokens
  // From here on the general table only answers for tokens longer than 16 bytes (the packed-key tables hold the
  // rest), so keep just those: a few thousand entries that stay in cache instead of every token.
  std::size_t long_count = 0;
  for (const auto& e : entries) long_count += e.second.length > 16;
  table.size_general_table(long_count);
  for (const auto& e : entries)
    if (e.second.length > 16) table.insert_general(e.first);
  table.count_ = entries.size();
  return table;
}

void RankTable::size_general_table(std::size_t count) {
  std::size_t capacity = 2;
  int bits = 1;
  while (capacity < count * 2) { capacity <<= 1; ++bits; }
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64 - bits;
}

}  // namespace tollway::tokens
