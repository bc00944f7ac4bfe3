// Encoding: one of OpenAI's byte-level BPE encodings (r50k_base, p50k_base, cl100k_base, o200k_base) giving
// exactly tiktoken's token ids. The ranks are compiled into the binary (tokens/embedded_ranks.h: the
// gpt-tokenizer `.tiktoken` files, sha256-checked against OpenAI's published digests at build time), so an
// encoding is ready at once, wherever the binary runs; immutable and shared by every thread. Encoding never
// fails on bad input: invalid UTF-8 is repaired to U+FFFD first, as JavaScript/Python callers of tiktoken do;
// the only error is a special token in text that does not allow it. Never reads a file, never touches the network.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tokens/pretokenizer.h"
#include "tokens/rank_table.h"

namespace tollway::tokens {

enum class EncodingName { R50kBase, P50kBase, Cl100kBase, O200kBase };

std::string_view to_string(EncodingName name);
std::optional<EncodingName> parse_encoding_name(std::string_view text);

// What encode does with special-token text such as "<|endoftext|>" (tiktoken's allowed/disallowed_special).
enum class SpecialPolicy {
  Disallow,  // tiktoken's default: text containing one is an error (DisallowedSpecialToken)
  Allow,     // allowed_special="all": encoded as the special token's id
  Ordinary,  // encode_ordinary: encoded as plain text
};

class DisallowedSpecialToken : public std::runtime_error {
 public:
  DisallowedSpecialToken(std::string token, std::size_t offset);
  const std::string& token() const { return token_; }
  std::size_t offset() const { return offset_; }  // byte offset in the (repaired) text

 private:
  std::string token_;
  std::size_t offset_;
};

struct SpecialToken {
  std::string text;
  std::uint32_t id;
};

class Encoding {
 public:
  // The process-wide instance for name over the ranks compiled into the binary; thread-safe, never fails, and
  // reads no table on the way (the first call for a name only wraps its static arrays).
  static const Encoding& embedded(EncodingName name);

  // Builds an encoding from rank-file text already in memory (no digest check); for tests and tools.
  static std::shared_ptr<const Encoding> from_rank_text(EncodingName name, std::string_view rank_file_text);

  EncodingName name() const { return name_; }
  const std::vector<SpecialToken>& special_tokens() const { return specials_; }
  const RankTable& ranks() const { return ranks_; }
  // One more than the largest id (ordinary or special).
  std::uint32_t vocabulary_size() const;

  std::vector<std::uint32_t> encode(std::string_view text, SpecialPolicy policy = SpecialPolicy::Disallow) const;
  // Same count as encode(text, policy).size(), without building the vector.
  std::size_t count(std::string_view text, SpecialPolicy policy = SpecialPolicy::Disallow) const;

  // The split pattern of this encoding: split_pieces(split_pattern(), text, ...) yields the pieces encode uses.
  SplitPattern split_pattern() const { return pattern_; }
  // Tokens of one piece exactly as split_pieces cut it from valid UTF-8 text (byte-pair merges only, no
  // splitting, no special tokens): the sum over a text's pieces equals count(text, SpecialPolicy::Ordinary).
  std::size_t count_piece(std::string_view piece) const;

  // Bytes of the tokens concatenated (may be invalid UTF-8 when ids cut a character). Throws
  // std::out_of_range naming the first id that is not in this encoding.
  std::string decode(std::span<const std::uint32_t> ids) const;

 private:
  Encoding(EncodingName name, RankTable ranks);
  template <class Sink>
  void encode_into(std::string_view text, SpecialPolicy policy, Sink& sink) const;
  template <class Sink>
  void encode_piece(std::string_view piece, Sink& sink) const;
  template <class Sink>
  void encode_ordinary_valid(std::string_view valid_text, Sink& sink) const;
  // First special token at or after pos: its index in specials_ and offset, or npos.
  std::pair<std::size_t, std::size_t> find_special(std::string_view text, std::size_t pos) const;

  EncodingName name_;
  SplitPattern pattern_;
  std::uint64_t id_;  // unique per instance (keys the per-thread PieceCache)
  RankTable ranks_;
  std::vector<SpecialToken> specials_;
};

}  // namespace tollway::tokens
