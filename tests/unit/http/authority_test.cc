#include "http/authority.h"

#include <gtest/gtest.h>

namespace tollway::http {
namespace {

std::optional<Authority> parse(std::string_view text) {
  std::string_view error;
  auto out = parse_authority(text, error);
  EXPECT_EQ(out.has_value(), error.empty()) << text;
  return out;
}

TEST(Authority, NamesAndLiterals) {
  auto a = parse("agent-b");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "agent-b");
  EXPECT_EQ(a->port, 0);
  a = parse("agent-b.prod.svc:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "agent-b.prod.svc");
  EXPECT_EQ(a->port, 8080);
  a = parse("127.0.0.1:65535");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 65535);
  a = parse("[::1]:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 443);
  a = parse("[2001:db8::7]");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "2001:db8::7");
}

TEST(Authority, RefusesWhatIsAmbiguousOrMalformed) {
  for (std::string_view bad : {"", ":80", "user@agent-b", "user:pw@agent-b:80", "agent%2Db", "agent-b:",
                               "agent-b:0", "agent-b:65536", "agent-b:080", "agent-b:+80", "agent-b:123456",
                               "agent-b:80:81", "[::1", "[]:80", "[agent-b]:80", "[::1]x", "[::1]:", "a b",
                               "agent_b!:80", "[::1%eth0]"})
    EXPECT_FALSE(parse(bad)) << bad;
}

}  // namespace
}  // namespace tollway::http
