// RankTable parsing and lookup on small hand-made rank files, plus the digest helper on FIPS 180-4 vectors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

std::string base64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 3; ++k) w = (w << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(w >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

// Every length class of the lookup (direct 1/2 bytes, packed-key 3..8 and 9..16, general > 16), including keys
// that differ only by trailing zero bytes, which the packed keys must tell apart by length.
TEST(RankTable, LooksUpEveryLengthClassExactly) {
  using namespace std::string_literals;
  const std::vector<std::string> tokens = {
      "a", "\0"s, "ab", "\0\0"s, "abc", "ab\0"s, "abc\0"s, "\0\0\0"s, "abcdefg", "abcdefgh", "abcdefgh\0"s,
      "abcdefghi", "abcdefghijklmnop", "abcdefghijklmno", "abcdefghijklmnopq", "abcdefghijklmnopqrstuvwxyz0123456789"};
  std::string file;
  for (std::size_t r = 0; r < tokens.size(); ++r) file += base64(tokens[r]) + " " + std::to_string(r) + "\n";
  const RankTable t = RankTable::parse(file);
  for (std::size_t r = 0; r < tokens.size(); ++r) {
    EXPECT_EQ(t.find(tokens[r]), r) << "token " << r;
    EXPECT_EQ(t.bytes_of(static_cast<std::uint32_t>(r)), tokens[r]);
  }
  for (const std::string& absent : {"b"s, "abd"s, "ab\0\0"s, "abcdefgh\0\0"s, "abcdefghij"s, "abcdefghijklmnoq"s,
                                    "abcdefghijklmnopr"s, "\0\0\0\0"s, "abcdefghijklmnopqrstuvwxyz012345678"s})
    EXPECT_EQ(t.find(absent), kNoRank) << absent.size() << "-byte string";
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
