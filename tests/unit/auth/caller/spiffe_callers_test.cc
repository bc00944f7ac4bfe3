#include "auth/caller/spiffe_callers.h"

#include <gtest/gtest.h>

namespace tollway::auth {
namespace {

using Result = SpiffeCallers::Lookup::Result;

config::SpiffeAuthConfig sample() {
  config::SpiffeAuthConfig c;
  config::SpiffeCallerConfig billing;
  billing.id = "spiffe://example.org/ns/prod/sa/billing";
  billing.tenant = "acme";
  billing.agent_group = "finance";
  billing.agent = "billing-bot";
  billing.policy.models = {"gpt-4o*"};
  config::SpiffeCallerConfig prod;
  prod.id = "spiffe://example.org/ns/prod/sa/*";
  prod.tenant = "acme";
  prod.agent_group = "prod";
  c.callers = {billing, prod};
  c.deny = {"spiffe://example.org/ns/prod/sa/compromised", "spiffe://example.org/ns/quarantine/sa/*"};
  return c;
}

TEST(SpiffeCallers, TheFirstMatchingMappingMakesTheCaller) {
  const SpiffeCallers callers(sample());
  const auto billing = callers.lookup("spiffe://example.org/ns/prod/sa/billing");
  ASSERT_EQ(billing.result, Result::Caller);
  EXPECT_EQ(billing.rule, "spiffe://example.org/ns/prod/sa/billing");
  EXPECT_TRUE(billing.caller.authenticated);
  EXPECT_EQ(billing.caller.method, "spiffe");
  EXPECT_EQ(billing.caller.tenant, "acme");
  EXPECT_EQ(billing.caller.agent_group, "finance");
  EXPECT_EQ(billing.caller.agent, "billing-bot");
  EXPECT_EQ(billing.caller.key_id, "spiffe://example.org/ns/prod/sa/billing");
  ASSERT_NE(billing.caller.policy, nullptr);
  EXPECT_EQ(billing.caller.policy->models, std::vector<std::string>{"gpt-4o*"});
}

TEST(SpiffeCallers, APatternMappingNamesTheAgentAfterTheLastSegment) {
  const SpiffeCallers callers(sample());
  const auto web = callers.lookup("spiffe://example.org/ns/prod/sa/web");
  ASSERT_EQ(web.result, Result::Caller);
  EXPECT_EQ(web.rule, "spiffe://example.org/ns/prod/sa/*");
  EXPECT_EQ(web.caller.agent, "web");
  EXPECT_EQ(web.caller.agent_group, "prod");
  EXPECT_EQ(web.caller.key_id, "spiffe://example.org/ns/prod/sa/web");
  ASSERT_NE(web.caller.policy, nullptr);
  EXPECT_TRUE(web.caller.policy->models.empty());
}

TEST(SpiffeCallers, TheDenyListComesBeforeEveryMapping) {
  const SpiffeCallers callers(sample());
  const auto exact = callers.lookup("spiffe://example.org/ns/prod/sa/compromised");
  EXPECT_EQ(exact.result, Result::Denied);
  EXPECT_EQ(exact.rule, "spiffe://example.org/ns/prod/sa/compromised");
  EXPECT_FALSE(exact.caller.authenticated);
  EXPECT_EQ(callers.lookup("spiffe://example.org/ns/quarantine/sa/web").result, Result::Denied);
}

TEST(SpiffeCallers, AnIdNoEntryCoversIsUnmapped) {
  const SpiffeCallers callers(sample());
  EXPECT_EQ(callers.lookup("spiffe://example.org/ns/dev/sa/web").result, Result::Unmapped);
  EXPECT_EQ(callers.lookup("spiffe://other.org/ns/prod/sa/web").result, Result::Unmapped);
  EXPECT_EQ(callers.lookup("spiffe://example.org/ns/prod/sa/web/extra").result, Result::Unmapped);
  EXPECT_EQ(callers.lookup("not a spiffe id").result, Result::Unmapped);
  EXPECT_TRUE(SpiffeCallers(config::SpiffeAuthConfig{}).empty());
  EXPECT_FALSE(SpiffeCallers(sample()).empty());
}

}  // namespace
}  // namespace tollway::auth
