#include "telemetry/request_metrics.h"

#include <gtest/gtest.h>

namespace tollway::telemetry {
namespace {

// What a node under a control plane reports on its polls for a canary's judgement: every response, its 5xx, and
// its denials (401, 403, 429 — not other 4xx), summed across workers.
TEST(RequestMetrics, CountsResponsesErrorsAndDenialsAcrossWorkers) {
  RequestMetrics a, b;
  a.record_request("/v1/chat/completions", "openai", 200, 0.01, 0, true);
  a.record_request("/v1/chat/completions", "", 401, 0.001, 0, false);
  a.record_request("/v1/chat/completions", "openai", 502, 0.01, 0, true);
  b.record_request("/v1/chat/completions", "", 403, 0.001, 0, false);
  b.record_request("/v1/chat/completions", "", 429, 0.001, 0, false);
  b.record_request("", "", 404, 0.001, 0, false);
  b.record_request("/v1/chat/completions", "openai", 503, 0.01, 0, true);
  a.merge(b);
  const auto counts = a.response_counts();
  EXPECT_EQ(counts.requests, 7u);
  EXPECT_EQ(counts.errors, 2u);
  EXPECT_EQ(counts.denials, 3u);
}

TEST(RequestMetrics, MergesWorkersAndRendersPrometheusText) {
  RequestMetrics a, b;
  a.record_request("/v1/chat/completions", "openai", 200, 0.003, 0.0002, true);
  b.record_request("/v1/chat/completions", "openai", 201, 0.2, 0.0001, true);
  b.record_request("", "", 404, 0.0001, 0, false);
  b.record_upstream_error("openai", "timeout");
  a.merge(b);
  std::string text;
  a.render(text);
  EXPECT_NE(text.find("tollway_requests_total{route=\"/v1/chat/completions\",provider=\"openai\",status_class=\"2xx\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("tollway_requests_total{route=\"\",provider=\"\",status_class=\"4xx\"} 1"), std::string::npos);
  EXPECT_NE(text.find("tollway_request_duration_seconds_bucket{route=\"/v1/chat/completions\",le=\"0.005\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("tollway_request_duration_seconds_bucket{route=\"/v1/chat/completions\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("tollway_request_duration_seconds_count{route=\"/v1/chat/completions\"} 2"), std::string::npos);
  EXPECT_NE(text.find("tollway_gateway_overhead_seconds_count 2"), std::string::npos) << text;
  EXPECT_NE(text.find("tollway_upstream_errors_total{provider=\"openai\",kind=\"timeout\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace tollway::telemetry
