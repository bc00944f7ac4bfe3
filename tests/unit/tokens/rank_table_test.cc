// RankTable parsing and lookup on small hand-made rank files, plus the digest helper on FIPS 180-4 vectors.
#include <gtest/gtest.h>

#include "tokens/rank_table.h"
#include "core/sha256.h"

namespace tollway::tokens {
namespace {

TEST(RankTable, ParsesLooksUpAndDecodes) {
  const RankTable t = RankTable::parse("YQ== 0\nYg== 1\nYWI= 5\naGVsbG8= 7\n");
  EXPECT_EQ(t.find("a"), 0u);
  EXPECT_EQ(t.find("ab"), 5u);
  EXPECT_EQ(t.find("hello"), 7u);
  EXPECT_EQ(t.find("hell"), kNoRank);
  EXPECT_EQ(t.find(""), kNoRank);
  EXPECT_EQ(t.bytes_of(7), "hello");
  EXPECT_EQ(t.bytes_of(3), "");  // hole
  EXPECT_EQ(t.bytes_of(99), "");
  EXPECT_EQ(t.rank_count(), 8u);
  EXPECT_EQ(t.token_count(), 4u);
}

TEST(RankTable, RejectsMalformedFiles) {
  EXPECT_THROW(RankTable::parse(""), std::runtime_error);
  EXPECT_THROW(RankTable::parse("YQ==0\n"), std::runtime_error);
  EXPECT_THROW(RankTable::parse("Y!== 0\n"), std::runtime_error);
  EXPECT_THROW(RankTable::parse("YQ== x\n"), std::runtime_error);
  EXPECT_THROW(RankTable::parse("YQ== 0\nYQ== 1\n"), std::runtime_error);  // same token twice
  EXPECT_THROW(RankTable::parse("YQ== 0\nYg== 0\n"), std::runtime_error);  // same rank twice
}

TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
}  // namespace tollway::tokens
