// Key limits from the keys API: every field read exactly, unknown fields and bad values refused naming
// `limits.<field>`, and the budget periods compared for PATCH.
#include "auth/virtual_keys/key_limits.h"

#include <gtest/gtest.h>

namespace tollway::auth {
namespace {

std::optional<KeyLimits> parse(std::string_view text, std::string* error = nullptr) {
  std::string e;
  auto value = core::strict_json::parse(text, e);
  EXPECT_TRUE(value) << text;
  KeyLimits out;
  const bool ok = parse_key_limits(*value, out, e);
  if (error) *error = e;
  return ok ? std::optional(out) : std::nullopt;
}

TEST(KeyLimits, ReadsEveryField) {
  auto l = parse(R"({"max_budget": 12.345678, "budget_duration": "30d", "tpm": 1000, "rpm": 10})");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->max_budget_micro_usd, 12'345'678);
  EXPECT_EQ(l->budget_every_s, 30 * 86400);
  EXPECT_EQ(l->budget_every_months, 0);
  EXPECT_EQ(l->tpm, 1000);
  EXPECT_EQ(l->rpm, 10);
  EXPECT_EQ(parse(R"({"max_budget": 5, "budget_duration": "1mo"})")->budget_every_months, 1);
  EXPECT_EQ(parse(R"({"max_budget": 5, "budget_duration": "10m"})")->budget_every_s, 600);
  const auto lifetime = parse(R"({"max_budget": 5, "budget_duration": null, "tpm": null})");
  EXPECT_EQ(lifetime->budget_every_s + lifetime->budget_every_months + lifetime->tpm, 0);
  EXPECT_FALSE(parse("{}")->any());
}

TEST(KeyLimits, RefusesNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"tpm_limit": 5})", "limits.tpm_limit"},
      {R"({"max_budget": 0.0000001})", "limits.max_budget"},
      {R"({"max_budget": -1})", "limits.max_budget"},
      {R"({"max_budget": "10"})", "limits.max_budget"},
      {R"({"max_budget": 1, "budget_duration": "1w"})", "limits.budget_duration"},
      {R"({"max_budget": 1, "budget_duration": "0d"})", "limits.budget_duration"},
      {R"({"budget_duration": "1d"})", "limits.budget_duration"},
      {R"({"tpm": 0})", "limits.tpm"},
      {R"({"rpm": 1.5})", "limits.rpm"},
  };
  for (const auto& [text, field] : cases) {
    std::string error;
    EXPECT_FALSE(parse(text, &error)) << text;
    EXPECT_NE(error.find(field), std::string::npos) << text << ": " << error;
  }
}

TEST(KeyLimits, StoredTextAndPeriods) {
  const KeyLimits a = key_limits_from_text(R"({"max_budget": 1, "budget_duration": "1d"})");
  const KeyLimits b = key_limits_from_text(R"({"max_budget": 9, "budget_duration": "24h"})");
  EXPECT_EQ(a.max_budget_micro_usd, 1'000'000);
  EXPECT_TRUE(same_budget_periods(a, b));
  EXPECT_FALSE(same_budget_periods(a, key_limits_from_text(R"({"max_budget": 1})")));
  EXPECT_FALSE(key_limits_from_text("not json").any());
}

}  // namespace
}  // namespace tollway::auth
