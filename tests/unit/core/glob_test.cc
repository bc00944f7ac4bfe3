#include "core/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace tollway {
namespace {

TEST(Glob, ModelPatterns) {
  EXPECT_TRUE(glob_match("gpt-*", "gpt-4o-mini"));
  EXPECT_TRUE(glob_match("gpt-*", "gpt-"));
  EXPECT_FALSE(glob_match("gpt-*", "chatgpt-4o"));
  EXPECT_TRUE(glob_match("o[0-9]*", "o3-mini"));
  EXPECT_FALSE(glob_match("o[0-9]*", "omni"));
  EXPECT_TRUE(glob_match("claude-*-4*", "claude-sonnet-4-5"));
  EXPECT_TRUE(glob_match("?pt", "gpt"));
  EXPECT_FALSE(glob_match("?pt", "pt"));
  EXPECT_TRUE(glob_match("[!a]x", "bx"));
  EXPECT_FALSE(glob_match("[!a]x", "ax"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a", ""));
}

TEST(Glob, StarsDoNotBacktrackExponentially) {
  const std::string text(5000, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", text));
}

TEST(Glob, CanMatchSomePathUnderAPrefix) {
  EXPECT_TRUE(glob_can_match_prefixed("/v1/audio/transcriptions", "/v1/audio/"));
  EXPECT_TRUE(glob_can_match_prefixed("/v1/*", "/v1/audio/"));
  EXPECT_TRUE(glob_can_match_prefixed("*", "/v1/audio/"));
  EXPECT_TRUE(glob_can_match_prefixed("/v1/a*o/x", "/v1/audio/"));
  EXPECT_TRUE(glob_can_match_prefixed("/v1/[a-c]udio/*", "/v1/audio/"));
  EXPECT_TRUE(glob_can_match_prefixed("/v1/audio/", "/v1/audio/"));
  EXPECT_FALSE(glob_can_match_prefixed("/v1/audio", "/v1/audio/"));
  EXPECT_FALSE(glob_can_match_prefixed("/v1/chat/*", "/v1/audio/"));
  EXPECT_FALSE(glob_can_match_prefixed("/v1/[!a]udio/*", "/v1/audio/"));
  EXPECT_FALSE(glob_can_match_prefixed("/v2*", "/v1/audio/"));
}

TEST(Glob, SyntaxErrors) {
  EXPECT_TRUE(glob_syntax_error("gpt-*").empty());
  EXPECT_FALSE(glob_syntax_error("gpt-[").empty());
  EXPECT_FALSE(glob_syntax_error("").empty());
}

}  // namespace
}  // namespace tollway
