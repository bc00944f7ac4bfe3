// Split scanners on cases that exercise each regex alternative and its backtracking (derived by hand from the
// patterns quoted in pretokenizer.cc; the node differential test checks them against tiktoken at scale).
#include <gtest/gtest.h>

#include "tokens/pretokenizer.h"

namespace tollway::tokens {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(SplitPattern p, std::string_view text) {
  Pieces out;
  split_pieces(p, text, [&](std::string_view piece) { out.emplace_back(piece); });
  return out;
}

TEST(Cl100kSplit, Alternatives) {
  const auto p = SplitPattern::Cl100k;
  EXPECT_EQ(split(p, "Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split(p, "I'm here"), (Pieces{"I", "'m", " here"}));
  EXPECT_EQ(split(p, "I'M YOU'LL"), (Pieces{"I", "'M", " YOU", "'LL"}));
  EXPECT_EQ(split(p, "'sa"), (Pieces{"'s", "a"}));
  EXPECT_EQ(split(p, "12345"), (Pieces{"123", "45"}));
  EXPECT_EQ(split(p, " 123"), (Pieces{" ", "123"}));
  EXPECT_EQ(split(p, "a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(split(p, "a \n\n b"), (Pieces{"a", " \n\n", " b"}));
  EXPECT_EQ(split(p, "x  "), (Pieces{"x", "  "}));
  EXPECT_EQ(split(p, "!!!\n\nx"), (Pieces{"!!!\n\n", "x"}));
  EXPECT_EQ(split(p, " !x"), (Pieces{" !", "x"}));
  EXPECT_EQ(split(p, "\tword"), (Pieces{"\tword"}));
  EXPECT_EQ(split(p, "\nword"), (Pieces{"\n", "word"}));
  EXPECT_EQ(split(p, "\t!"), (Pieces{"\t", "!"}));
  EXPECT_EQ(split(p, "caf\xC3\xA9"), (Pieces{"caf\xC3\xA9"}));
  EXPECT_EQ(split(p, "e\xCC\x81t\xC3\xA9"), (Pieces{"e", "\xCC\x81t\xC3\xA9"}));  // a mark is a prefix, not a letter
  EXPECT_EQ(split(p, "'\xC5\xBF"), (Pieces{"'\xC5\xBF"}));                      // 'ſ folds to 's
}

TEST(O200kSplit, CaseAwareWords) {
  const auto p = SplitPattern::O200k;
  EXPECT_EQ(split(p, "HelloWorld"), (Pieces{"Hello", "World"}));
  EXPECT_EQ(split(p, "HELLOworld"), (Pieces{"HELLOworld"}));
  EXPECT_EQ(split(p, "helloWORLD"), (Pieces{"hello", "WORLD"}));
  EXPECT_EQ(split(p, "don't stop"), (Pieces{"don't", " stop"}));
  EXPECT_EQ(split(p, "path/to/x"), (Pieces{"path", "/to", "/x"}));
  EXPECT_EQ(split(p, "a//\nb"), (Pieces{"a", "//\n", "b"}));
  EXPECT_EQ(split(p, "1234"), (Pieces{"123", "4"}));
  EXPECT_EQ(split(p, "x \n y"), (Pieces{"x", " \n", " y"}));
}

TEST(Gpt2Split, Alternatives) {
  const auto p = SplitPattern::Gpt2;
  EXPECT_EQ(split(p, "hello   world"), (Pieces{"hello", "  ", " world"}));
  EXPECT_EQ(split(p, "It's"), (Pieces{"It", "'s"}));
  EXPECT_EQ(split(p, "IT'S"), (Pieces{"IT", "'", "S"}));
  EXPECT_EQ(split(p, "12345 678"), (Pieces{"12345", " 678"}));
  EXPECT_EQ(split(p, "a\n\nb"), (Pieces{"a", "\n", "\n", "b"}));
}

}  // namespace
}  // namespace tollway::tokens
