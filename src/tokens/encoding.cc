#include "tokens/encoding.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "tokens/bpe.h"
#include "tokens/piece_cache.h"
#include "core/sha256.h"
#include "tokens/utf8.h"

#ifndef TOLLWAY_DATA_DIR
#define TOLLWAY_DATA_DIR "."
#endif

namespace tollway::tokens {
namespace {

struct EncodingSpec {
  EncodingName name;
  std::string_view text;
  std::string_view sha256;  // OpenAI's published digest of the rank file
  SplitPattern pattern;
};

constexpr std::array<EncodingSpec, 4> kSpecs = {{
    {EncodingName::R50kBase, "r50k_base", "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", SplitPattern::Gpt2},
    {EncodingName::P50kBase, "p50k_base", "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069", SplitPattern::Gpt2},
    {EncodingName::Cl100kBase, "cl100k_base", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", SplitPattern::Cl100k},
    {EncodingName::O200kBase, "o200k_base", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", SplitPattern::O200k},
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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open rank file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
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

std::shared_ptr<const Encoding> Encoding::load(EncodingName name, std::string_view ranks_dir) {
  const EncodingSpec& spec = spec_of(name);
  const std::string path = std::string(ranks_dir) + "/" + std::string(spec.text) + ".tiktoken";
  const std::string text = read_file(path);
  const std::string digest = sha256_hex(text);
  if (digest != spec.sha256)
    throw std::runtime_error("rank file " + path + " has sha256 " + digest + ", expected OpenAI's " + std::string(spec.sha256));
  try {
    return from_rank_text(name, text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::shared_ptr<const Encoding> Encoding::shared(EncodingName name) {
  static std::mutex mu;
  static std::array<std::shared_ptr<const Encoding>, kSpecs.size()> loaded;
  const std::lock_guard<std::mutex> lock(mu);
  auto& slot = loaded[static_cast<std::size_t>(name)];
  if (!slot) slot = load(name, find_ranks_dir());
  return slot;
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

std::string find_ranks_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("TOLLWAY_RANKS_DIR"); env && *env) candidates.emplace_back(env);
  char exe[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    std::string dir(exe, static_cast<std::size_t>(len));
    dir.resize(dir.rfind('/'));
    candidates.push_back(dir + "/../../node_modules/gpt-tokenizer/data");
  }
  candidates.push_back(std::string(TOLLWAY_DATA_DIR) + "/node_modules/gpt-tokenizer/data");
  for (const auto& c : candidates)
    if (std::ifstream(c + "/cl100k_base.tiktoken").good()) return c;
  return candidates.back();
}

}  // namespace tollway::tokens
