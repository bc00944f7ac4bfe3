#include "telemetry/export_retry.h"

#include <gtest/gtest.h>

namespace tollway::telemetry {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kNow = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

ExportDecision decide(std::optional<int> status, int attempts, std::string_view retry_after = "",
                      double u = 0.5, bool partial = false) {
  ExportAttempt a;
  a.status = status;
  a.retry_after = retry_after;
  a.partial_success = partial;
  return decide_export_retry(a, attempts, ExportRetryPolicy{}, u, kNow);
}

TEST(ExportRetry, RetriesOnlyTheListedStatusesAndConnectionErrors) {
  for (int status : {429, 502, 503, 504}) EXPECT_EQ(decide(status, 1).verdict, ExportVerdict::Retry) << status;
  EXPECT_EQ(decide(std::nullopt, 1).verdict, ExportVerdict::Retry);
  for (int status : {400, 401, 403, 404, 408, 413, 500, 501, 505, 302})
    EXPECT_EQ(decide(status, 1).verdict, ExportVerdict::Drop) << status;
}

TEST(ExportRetry, NeverRetriesSuccessOrPartialSuccess) {
  EXPECT_EQ(decide(200, 1).verdict, ExportVerdict::Success);
  EXPECT_EQ(decide(202, 1).verdict, ExportVerdict::Success);
  EXPECT_EQ(decide(200, 1, "5", 0.5, true).verdict, ExportVerdict::PartialSuccess);
}

TEST(ExportRetry, ExponentialBackoffWithJitterWithinBounds) {
  // jitter 0.5: factor in [0.5, 1.5); u = 0.5 -> exactly the base delay.
  EXPECT_EQ(decide(503, 1, "", 0.5).delay, milliseconds(1000));
  EXPECT_EQ(decide(503, 2, "", 0.5).delay, milliseconds(2000));
  EXPECT_EQ(decide(503, 3, "", 0.5).delay, milliseconds(4000));
  EXPECT_EQ(decide(503, 1, "", 0.0).delay, milliseconds(500));
  EXPECT_EQ(decide(503, 1, "", 0.999).delay.count(), 1499);
  // Capped at max_backoff, jitter included.
  ExportRetryPolicy policy;
  policy.max_attempts = 100;
  ExportAttempt a{503, "", false};
  EXPECT_EQ(decide_export_retry(a, 20, policy, 0.999, kNow).delay, milliseconds(30000));
  EXPECT_EQ(decide_export_retry(a, 20, policy, 0.0, kNow).delay, milliseconds(15000));
  for (int attempt = 1; attempt < 50; ++attempt)
    for (double u : {0.0, 0.3, 0.7, 0.99}) {
      const auto d = decide_export_retry(a, attempt, policy, u, kNow);
      EXPECT_EQ(d.verdict, ExportVerdict::Retry);
      EXPECT_GE(d.delay, milliseconds(0));
      EXPECT_LE(d.delay, policy.max_backoff);
    }
}

TEST(ExportRetry, GivesUpAfterMaxAttempts) {
  EXPECT_EQ(decide(503, 4).verdict, ExportVerdict::Retry);
  EXPECT_EQ(decide(503, 5).verdict, ExportVerdict::GiveUp);
  EXPECT_EQ(decide(std::nullopt, 5).verdict, ExportVerdict::GiveUp);
  EXPECT_EQ(decide(400, 5).verdict, ExportVerdict::Drop);
}

TEST(ExportRetry, HonoursRetryAfterSecondsAndDates) {
  EXPECT_EQ(decide(429, 1, "7").delay, milliseconds(7000));
  EXPECT_EQ(decide(503, 1, " 0 ").delay, milliseconds(0));
  EXPECT_EQ(decide(503, 1, "Sun, 06 Nov 1994 08:50:07 GMT").delay, milliseconds(30000));
  EXPECT_EQ(decide(503, 1, "Sun, 06 Nov 1994 08:00:00 GMT").delay, milliseconds(0));  // in the past
  // Unparseable: exponential backoff instead.
  EXPECT_EQ(decide(503, 1, "soon", 0.5).delay, milliseconds(1000));
  EXPECT_EQ(decide(503, 1, "-5", 0.5).delay, milliseconds(1000));
  // Longer than the policy tolerates: give up rather than hold the batch.
  EXPECT_EQ(decide(429, 1, "3600").verdict, ExportVerdict::GiveUp);
  EXPECT_EQ(decide(429, 1, "99999999999999999999").verdict, ExportVerdict::GiveUp);
}

}  // namespace
}  // namespace tollway::telemetry
