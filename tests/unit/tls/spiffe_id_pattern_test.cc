#include "tls/spiffe_id_pattern.h"

#include <gtest/gtest.h>

namespace tollway::tls {
namespace {

SpiffeIdPattern pattern(std::string_view text) {
  std::string error;
  auto p = SpiffeIdPattern::parse(text, &error);
  EXPECT_TRUE(p) << text << ": " << error;
  return *p;
}

bool matches(std::string_view pattern_text, std::string_view id_text) {
  const auto id = SpiffeId::parse(id_text);
  EXPECT_TRUE(id) << id_text;
  return pattern(pattern_text).matches(*id);
}

std::string refusal(std::string_view text) {
  std::string error;
  EXPECT_FALSE(SpiffeIdPattern::parse(text, &error)) << text;
  return error;
}

TEST(SpiffeIdPattern, AnExactIdMatchesOnlyItself) {
  EXPECT_TRUE(pattern("spiffe://example.org/ns/prod/sa/web").exact());
  EXPECT_TRUE(matches("spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web"));
  EXPECT_FALSE(matches("spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web2"));
  EXPECT_FALSE(matches("spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/web/x"));
  EXPECT_FALSE(matches("spiffe://example.org/ns/prod/sa/web", "spiffe://example.com/ns/prod/sa/web"));
}

TEST(SpiffeIdPattern, AStarIsExactlyOneSegment) {
  const char* p = "spiffe://example.org/ns/prod/sa/*";
  EXPECT_FALSE(pattern(p).exact());
  EXPECT_TRUE(matches(p, "spiffe://example.org/ns/prod/sa/web"));
  EXPECT_TRUE(matches(p, "spiffe://example.org/ns/prod/sa/billing-agent"));
  EXPECT_FALSE(matches(p, "spiffe://example.org/ns/prod/sa"));
  EXPECT_FALSE(matches(p, "spiffe://example.org/ns/prod/sa/web/extra"));
  EXPECT_FALSE(matches(p, "spiffe://example.org/ns/dev/sa/web"));
  EXPECT_FALSE(matches(p, "spiffe://other.org/ns/prod/sa/web"));
  EXPECT_TRUE(matches("spiffe://example.org/ns/*/sa/*", "spiffe://example.org/ns/dev/sa/web"));
  EXPECT_FALSE(matches("spiffe://example.org/ns/*/sa/*", "spiffe://example.org/ns/dev/xx/web"));
  EXPECT_TRUE(matches("spiffe://example.org/*", "spiffe://example.org/anything"));
  EXPECT_FALSE(matches("spiffe://example.org/*", "spiffe://example.org"));
}

TEST(SpiffeIdPattern, AnIdWithoutPathHasNone) {
  EXPECT_FALSE(pattern("spiffe://example.org").has_path());
  EXPECT_TRUE(matches("spiffe://example.org", "spiffe://example.org"));
  EXPECT_FALSE(matches("spiffe://example.org", "spiffe://example.org/a"));
}

TEST(SpiffeIdPattern, RefusesWhatNoValidIdCouldMatch) {
  EXPECT_EQ(refusal("spiffe://*/ns/prod"), "trust domain has an invalid character '*'");
  EXPECT_EQ(refusal("spiffe://*"), "trust domain has an invalid character '*'");
  EXPECT_EQ(refusal("spiffe://example.org/ns/prod*"),
            "path has an invalid character '*' (\"*\" stands for a whole path segment only)");
  EXPECT_EQ(refusal("spiffe://example.org/ns/**"),
            "path has an invalid character '*' (\"*\" stands for a whole path segment only)");
  EXPECT_EQ(refusal("spiffe://example.org/ns/*/"), "path has a trailing '/'");
  EXPECT_EQ(refusal("spiffe://Example.org/ns"), "trust domain must be lowercase");
  EXPECT_EQ(refusal("https://example.org/ns"), "scheme must be \"spiffe\"");
  EXPECT_EQ(refusal("spiffe://example.org/ns?x=1"), "a SPIFFE ID has no query");
}

}  // namespace
}  // namespace tollway::tls
