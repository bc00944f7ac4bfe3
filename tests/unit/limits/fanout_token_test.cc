#include "limits/fanout_token.h"

#include <gtest/gtest.h>

namespace tollway::limits {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

FanoutGrant grant() {
  return {"0123456789abcdef0123456789abcdef", config::LimitUnit::TotalTokens, 5000, 2'000'000'000};
}

TEST(FanoutToken, MintVerifyRoundTrip) {
  FanoutSigner signer(kSecret);
  const std::string token = signer.mint(grant());
  EXPECT_EQ(token.rfind("v1.0123456789abcdef0123456789abcdef.tok.5000.2000000000.", 0), 0u) << token;
  std::string why;
  auto g = signer.verify(token, 1'900'000'000, why);
  ASSERT_TRUE(g) << why;
  EXPECT_EQ(g->root, grant().root);
  EXPECT_EQ(g->budget, 5000);
  EXPECT_EQ(g->unit, config::LimitUnit::TotalTokens);
  EXPECT_EQ(g->expires_s, 2'000'000'000);
}

TEST(FanoutToken, AnyChangedFieldBreaksTheSignature) {
  FanoutSigner signer(kSecret);
  const std::string token = signer.mint(grant());
  std::string why;
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{".5000.", ".9000."},
                                                        {".tok.", ".usd."},
                                                        {".2000000000.", ".2000000001."},
                                                        {"v1.0123", "v1.1123"}}) {
    std::string forged = token;
    forged.replace(forged.find(from), from.size(), to);
    EXPECT_FALSE(signer.verify(forged, 1'900'000'000, why)) << forged;
    EXPECT_EQ(why, "fan-out token signature does not verify");
  }
  EXPECT_FALSE(FanoutSigner("another-secret-another-secret-xx").verify(token, 1'900'000'000, why));
}

TEST(FanoutToken, ExpiredAndMalformed) {
  FanoutSigner signer(kSecret);
  std::string why;
  EXPECT_FALSE(signer.verify(signer.mint(grant()), 2'000'000'000, why));
  EXPECT_EQ(why, "fan-out budget expired");
  for (const char* bad : {"", "v1", "v2.a.b.c.d.e", "v1.a.tok.1.2.x.y", "v1..tok.1.2.x"}) {
    EXPECT_FALSE(signer.verify(bad, 0, why)) << bad;
  }
  // A correctly signed token with a malformed field is still refused.
  FanoutGrant g = grant();
  g.root = "not-hex";
  EXPECT_FALSE(signer.verify(signer.mint(g), 0, why));
  EXPECT_EQ(why, "malformed fan-out token");
}

TEST(FanoutToken, RootsAreRandomHex) {
  const std::string a = FanoutSigner::new_root(), b = FanoutSigner::new_root();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace tollway::limits
