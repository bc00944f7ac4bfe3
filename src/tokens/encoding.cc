#include "tokens/encoding.h"

#include <array>
#include <atomic>

#include "tokens/bpe.h"
#include "tokens/embedded_ranks.h"
#include "tokens/piece_cache.h"
#include "tokens/utf8.h"

namespace tollway::tokens {
namespace {

struct EncodingSpec {
  EncodingName name;
  std::string_view text;
  SplitPattern pattern;
};

constexpr std::array<EncodingSpec, 4> kSpecs = {{
    {EncodingName::R50kBase, "r50k_base", SplitPattern::Gpt2},
    {EncodingName::P50kBase, "p50k_base", SplitPattern::Gpt2},
    {EncodingName::Cl100kBase, "cl100k_base", SplitPattern::Cl100k},
    {EncodingName::O200kBase, "o200k_base", SplitPattern::O200k},
}};

const EncodingSpec& spec_of(EncodingName name) { return kSpecs[static_cast<std::size_t>(name)]; }

std::vector<SpecialToken> specials_of(EncodingName name) {
  switch (name) {
    case EncodingName::R50kBase:
    case EncodingName::P50kBase: return {{"<|endoftext|>", 50256}};
    case EncodingName::Cl100kBase:
      return {{"<|endoftext|>", 100257}, {"<|fim_prefix|>", 100258}, {"<|fim_middle|>", 100259},
              {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276}};
    case EncodingName::O200kBase: return {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}};
  }
  return {};
}

struct CountSink {
  std::size_t n = 0;
  void token(std::uint32_t) { ++n; }
  void tokens(const std::uint32_t*, std::size_t count) { n += count; }
};
struct VectorSink {
  std::vector<std::uint32_t>& out;
  void token(std::uint32_t id) { out.push_back(id); }
  void tokens(const std::uint32_t* ids, std::size_t count) {
    for (std::size_t k = 0; k < count; ++k) out.push_back(ids[k]);  // counts are small: no memmove call
  }
};

std::uint64_t next_encoding_id() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}

}  // namespace

std::string_view to_string(EncodingName name) { return spec_of(name).text; }

std::optional<EncodingName> parse_encoding_name(std::string_view text) {
  for (const auto& s : kSpecs)
    if (s.text == text) return s.name;
  return std::nullopt;
}

DisallowedSpecialToken::DisallowedSpecialToken(std::string token, std::size_t offset)
    : std::runtime_error("text contains the special token " + token + " at byte " + std::to_string(offset) +
                         ", which is not allowed (allow special tokens to encode it as one, or treat it as ordinary text)"),
      token_(std::move(token)),
      offset_(offset) {}

Encoding::Encoding(EncodingName name, RankTable ranks)
    : name_(name), pattern_(spec_of(name).pattern), id_(next_encoding_id()), ranks_(std::move(ranks)), specials_(specials_of(name)) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (ranks_.find(std::string_view(&c, 1)) == kNoRank)
      throw std::runtime_error("rank file for " + std::string(to_string(name)) + " has no token for byte " + std::to_string(b));
  }
}

std::shared_ptr<const Encoding> Encoding::from_rank_text(EncodingName name, std::string_view text) {
  return std::shared_ptr<const Encoding>(new Encoding(name, RankTable::parse(text)));
}

const Encoding& Encoding::embedded(EncodingName name) {
  switch (name) {
    case EncodingName::R50kBase: {
      static const Encoding r50k(name, RankTable(kEmbeddedR50kBase.layout));
      return r50k;
    }
    case EncodingName::P50kBase: {
      static const Encoding p50k(name, RankTable(kEmbeddedP50kBase.layout));
      return p50k;
    }
    case EncodingName::Cl100kBase: {
      static const Encoding cl100k(name, RankTable(kEmbeddedCl100kBase.layout));
      return cl100k;
    }
    case EncodingName::O200kBase: break;
  }
  static const Encoding o200k(EncodingName::O200kBase, RankTable(kEmbeddedO200kBase.layout));
  return o200k;
}

std::uint32_t Encoding::vocabulary_size() const {
  std::uint32_t n = ranks_.rank_count();
  for (const auto& s : specials_) n = std::max(n, s.id + 1);
  return n;
}

std::pair<std::size_t, std::size_t> Encoding::find_special(std::string_view text, std::size_t pos) const {
  for (std::size_t at = text.find("<|", pos); at != std::string_view::npos; at = text.find("<|", at + 1)) {
    for (std::size_t k = 0; k < specials_.size(); ++k)
      if (text.compare(at, specials_[k].text.size(), specials_[k].text) == 0) return {k, at};
  }
  return {std::string_view::npos, std::string_view::npos};
}

template <class Sink>
void Encoding::encode_piece(std::string_view piece, Sink& sink) const {
  const std::uint32_t whole = ranks_.find(piece);
  if (whole != kNoRank) return sink.token(whole);
  if (piece.size() > kSmallPieceBytes) {
    thread_local std::vector<std::uint32_t> merged;
    merged.clear();
    byte_pair_encode(ranks_, piece, merged);
    return sink.tokens(merged.data(), merged.size());
  }
  const auto owner = static_cast<std::uint32_t>(id_);
  const bool cacheable = piece.size() >= PieceCache::kMinPieceBytes && piece.size() <= PieceCache::kMaxPieceBytes;
  PieceCache::Entry* e = nullptr;
  if (cacheable) {
    e = &PieceCache::slot(owner, RankTable::hash(piece));
    if (PieceCache::hit(*e, owner, piece)) return sink.tokens(e->ids, e->token_count);
  }
  std::uint32_t ids[kSmallPieceBytes];
  const std::size_t count = byte_pair_encode_small(ranks_, piece, ids);
  sink.tokens(ids, count);
  if (cacheable && count <= PieceCache::kMaxTokens) PieceCache::store(*e, owner, piece, ids, count);
}

template <class Sink>
void Encoding::encode_ordinary_valid(std::string_view text, Sink& sink) const {
  split_pieces(pattern_, text, [&](std::string_view piece) { encode_piece(piece, sink); });
}

template <class Sink>
void Encoding::encode_into(std::string_view raw, SpecialPolicy policy, Sink& sink) const {
  std::string repaired;
  std::string_view text = raw;
  if (!is_valid_utf8(raw)) {
    repaired = repair_utf8(raw);
    text = repaired;
  }
  if (policy == SpecialPolicy::Ordinary) return encode_ordinary_valid(text, sink);
  if (policy == SpecialPolicy::Disallow) {
    const auto [k, at] = find_special(text, 0);
    if (k != std::string_view::npos) throw DisallowedSpecialToken(specials_[k].text, at);
    return encode_ordinary_valid(text, sink);
  }
  std::size_t pos = 0;
  for (;;) {
    const auto [k, at] = find_special(text, pos);
    if (k == std::string_view::npos) break;
    encode_ordinary_valid(text.substr(pos, at - pos), sink);
    sink.token(specials_[k].id);
    pos = at + specials_[k].text.size();
  }
  encode_ordinary_valid(text.substr(pos), sink);
}

std::vector<std::uint32_t> Encoding::encode(std::string_view text, SpecialPolicy policy) const {
  std::vector<std::uint32_t> out;
  out.reserve(text.size() / 2 + 16);  // typical text is 3-4 bytes per token; a big reservation only maps pages
  VectorSink sink{out};
  encode_into(text, policy, sink);
  return out;
}

std::size_t Encoding::count(std::string_view text, SpecialPolicy policy) const {
  CountSink sink;
  encode_into(text, policy, sink);
  return sink.n;
}

std::size_t Encoding::count_piece(std::string_view piece) const {
  CountSink sink;
  encode_piece(piece, sink);
  return sink.n;
}

std::string Encoding::decode(std::span<const std::uint32_t> ids) const {
  std::string out;
  for (std::uint32_t id : ids) {
    const std::string_view bytes = ranks_.bytes_of(id);
    if (!bytes.empty()) {
      out.append(bytes);
      continue;
    }
    bool found = false;
    for (const auto& s : specials_)
      if (s.id == id) { out.append(s.text); found = true; break; }
    if (!found) throw std::out_of_range("token id " + std::to_string(id) + " is not in " + std::string(to_string(name_)));
  }
  return out;
}

}  // namespace tollway::tokens
