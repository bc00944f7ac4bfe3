#include "config/interpolate.h"

#include <gtest/gtest.h>

#include <map>

namespace tollway::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Interpolate, ReplacesSetVariables) {
  std::string error;
  auto v = interpolate_env("Bearer ${env:KEY} and ${env:B}", env_of({{"KEY", "sk-1"}, {"B", ""}}), error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(*v, "Bearer sk-1 and ");
}

TEST(Interpolate, DefaultOnlyWhenUnset) {
  std::string error;
  EXPECT_EQ(*interpolate_env("${env:A:-dflt}", env_of({}), error), "dflt");
  EXPECT_EQ(*interpolate_env("${env:A:-dflt}", env_of({{"A", "set"}}), error), "set");
  EXPECT_EQ(*interpolate_env("${env:A:-}", env_of({}), error), "");
}

TEST(Interpolate, UnsetWithoutDefaultIsAnError) {
  std::string error;
  EXPECT_FALSE(interpolate_env("x ${env:MISSING}", env_of({}), error));
  EXPECT_NE(error.find("MISSING is not set"), std::string::npos) << error;
}

TEST(Interpolate, RejectsMalformedReferences) {
  std::string error;
  EXPECT_FALSE(interpolate_env("${env:A", env_of({}), error));
  EXPECT_FALSE(interpolate_env("${file:/etc/passwd}", env_of({}), error));
  EXPECT_NE(error.find("unknown substitution"), std::string::npos);
  EXPECT_FALSE(interpolate_env("${env:1BAD}", env_of({}), error));
}

TEST(Interpolate, DoubleDollarIsLiteral) {
  std::string error;
  EXPECT_EQ(*interpolate_env("$${env:A} costs $5", env_of({{"A", "x"}}), error), "${env:A} costs $5");
}

}  // namespace
}  // namespace tollway::config
