// The rank tables compiled into the binary equal a parse of the source tree's `.tiktoken` files: the same digest
// (OpenAI's), the same counts, the same bytes for every rank, and array for array the same layout.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/sha256.h"
#include "ranks_dir.h"
#include "tokens/embedded_ranks.h"
#include "tokens/encoding.h"

namespace tollway::tokens {
namespace {

struct Case {
  const EmbeddedRanks* embedded;
  EncodingName name;
  const char* file;
  const char* openai_sha256;
  std::size_t token_count;
};

const Case kCases[] = {
    {&kEmbeddedR50kBase, EncodingName::R50kBase, "r50k_base.tiktoken",
     "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", 50256},
    {&kEmbeddedP50kBase, EncodingName::P50kBase, "p50k_base.tiktoken",
     "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069", 50280},
    {&kEmbeddedCl100kBase, EncodingName::Cl100kBase, "cl100k_base.tiktoken",
     "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", 100256},
    {&kEmbeddedO200kBase, EncodingName::O200kBase, "o200k_base.tiktoken",
     "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", 199998},
};

std::string read_rank_file(const char* name) {
  std::ifstream in(testing::ranks_dir() + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <class T, std::size_t N>
bool same_array(std::span<const T, N> a, std::span<const T, N> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

class EmbeddedRanksTest : public ::testing::TestWithParam<Case> {};

TEST_P(EmbeddedRanksTest, EqualsAParseOfTheRankFile) {
  const Case& c = GetParam();
  const std::string text = read_rank_file(c.file);
  ASSERT_FALSE(text.empty()) << c.file << " not found under " << testing::ranks_dir();
  EXPECT_EQ(sha256_hex(text), c.openai_sha256);
  EXPECT_EQ(c.embedded->sha256, c.openai_sha256);
  EXPECT_EQ(c.embedded->file_name, c.file);

  const RankTable parsed = RankTable::parse(text);
  const RankTable& embedded = Encoding::embedded(c.name).ranks();
  EXPECT_EQ(&embedded.layout().arena.front(), &c.embedded->layout.arena.front()) << "embedded() must wrap, not copy";
  EXPECT_EQ(embedded.token_count(), c.token_count);
  EXPECT_EQ(parsed.token_count(), c.token_count);
  EXPECT_EQ(embedded.rank_count(), parsed.rank_count());
  for (std::uint32_t rank = 0; rank < parsed.rank_count(); ++rank) {
    const std::string_view bytes = parsed.bytes_of(rank);
    ASSERT_EQ(embedded.bytes_of(rank), bytes) << "rank " << rank;
    if (!bytes.empty()) {
      ASSERT_EQ(embedded.find(bytes), rank) << "rank " << rank;
    }
  }

  const RankTableLayout& a = parsed.layout();
  const RankTableLayout& b = embedded.layout();
  EXPECT_EQ(a.arena, b.arena);
  EXPECT_TRUE(same_array(a.tokens, b.tokens));
  EXPECT_TRUE(same_array(a.long_slots, b.long_slots));
  EXPECT_TRUE(same_array(a.short_prints, b.short_prints));
  EXPECT_TRUE(same_array(a.short_slots, b.short_slots));
  EXPECT_TRUE(same_array(a.medium_prints, b.medium_prints));
  EXPECT_TRUE(same_array(a.medium_slots, b.medium_slots));
  EXPECT_TRUE(same_array(a.one_byte, b.one_byte));
  EXPECT_TRUE(same_array(a.two_byte, b.two_byte));
  EXPECT_EQ(a.max_token_length, b.max_token_length);
}

INSTANTIATE_TEST_SUITE_P(AllEncodings, EmbeddedRanksTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(to_string(info.param.name)); });

}  // namespace
}  // namespace tollway::tokens
