#include "telemetry/genai_semconv.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tollway::telemetry::genai {
namespace {

// The Prometheus constants are the OTel names under the derivation rule, not typed independently.
TEST(GenAiSemconv, PrometheusNamesFollowFromTheOtelNames) {
  static_assert(prometheus_name("gen_ai.client.token.usage", false).view() == kPromClientTokenUsage);
  static_assert(prometheus_name("gen_ai.client.operation.duration", true).view() == kPromClientOperationDuration);
  static_assert(prometheus_name("gen_ai.server.request.duration", true).view() == kPromServerRequestDuration);
  static_assert(prometheus_name("gen_ai.server.time_to_first_token", true).view() == kPromServerTimeToFirstToken);
  static_assert(prometheus_name("gen_ai.server.time_per_output_token", true).view() ==
                kPromServerTimePerOutputToken);
  static_assert(prometheus_name("gen_ai.token.type", false).view() == kPromLabelTokenType);
  EXPECT_EQ(kMetricClientTokenUsage, "gen_ai.client.token.usage");
  // The names issue 8 asks for on /metrics.
  EXPECT_EQ(kPromClientTokenUsage, "gen_ai_client_token_usage");
  EXPECT_EQ(kPromServerRequestDuration, "gen_ai_server_request_duration_seconds");
  EXPECT_EQ(kPromServerTimeToFirstToken, "gen_ai_server_time_to_first_token_seconds");
  EXPECT_EQ(kPromServerTimePerOutputToken, "gen_ai_server_time_per_output_token_seconds");
}

TEST(GenAiSemconv, AttributeNamesAndBuckets) {
  EXPECT_EQ(kProviderName, "gen_ai.provider.name");
  EXPECT_EQ(kUsageInputTokens, "gen_ai.usage.input_tokens");
  EXPECT_EQ(kUsageOutputTokens, "gen_ai.usage.output_tokens");
  EXPECT_TRUE(std::is_sorted(kTokenUsageBuckets.begin(), kTokenUsageBuckets.end()));
  EXPECT_TRUE(std::is_sorted(kDurationBuckets.begin(), kDurationBuckets.end()));
  EXPECT_TRUE(std::is_sorted(kTimeToFirstTokenBuckets.begin(), kTimeToFirstTokenBuckets.end()));
  EXPECT_TRUE(std::is_sorted(kTimePerOutputTokenBuckets.begin(), kTimePerOutputTokenBuckets.end()));
  for (std::size_t i = 1; i < kTokenUsageBuckets.size(); ++i)
    EXPECT_EQ(kTokenUsageBuckets[i], kTokenUsageBuckets[i - 1] * 4);  // powers of 4 from 1 to 4^13
}

}  // namespace
}  // namespace tollway::telemetry::genai
