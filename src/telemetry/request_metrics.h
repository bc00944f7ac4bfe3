// RequestMetrics: the request counters and latency histograms of one worker thread. Only its worker writes
// it; the admin listener asks each worker for a copy and merges them (message passing, no locks on the
// request path). It never stores unbounded label values: routes and providers come from the config.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "telemetry/call_metrics.h"
#include "telemetry/histogram.h"

namespace tollway::telemetry {

class RequestMetrics {
 public:
  // `route` is the configured path ("" for requests no route matched), `provider` "" when none was chosen.
  void record_request(std::string_view route, std::string_view provider, int status, double seconds,
                      double gateway_overhead_seconds, bool upstream_contacted);
  // kind: "connect", "timeout", "protocol", "reset" (anything else is counted as "other").
  void record_upstream_error(std::string_view provider, std::string_view kind);
  // Usage of one proxied call as the provider reported (or the gateway estimated) it, with its cost.
  struct UsageSample {
    uint64_t input = 0, output = 0, cached_input = 0, cache_creation = 0, reasoning = 0;
    int64_t cost_micro_usd = 0;
    bool known = false, estimated = false, priced_at_default = false;
  };
  void record_usage(std::string_view provider, const UsageSample& usage);
  // GenAI, cost attribution, denial and trace-context series (recorded by telemetry::TelemetryFilter).
  CallMetrics& calls() { return calls_; }
  const CallMetrics& calls() const { return calls_; }
  void merge(const RequestMetrics& other);
  // Every request answered, those answered 5xx, and those answered 401, 403 or 429 (denied).
  struct ResponseTotals {
    uint64_t requests = 0, errors = 0, denials = 0;
  };
  ResponseTotals response_counts() const;
  void render(std::string& out) const;

 private:
  // Series are found by string_view (transparent maps), so recording allocates only for a new label value.
  static constexpr std::size_t kStatusClasses = 6;  // none, 1xx .. 5xx
  struct RouteSeries {
    Histogram duration;
    std::map<std::string, std::array<uint64_t, kStatusClasses>, std::less<>> by_provider;
  };
  enum TokenKind { kInput, kOutput, kCachedInput, kCacheCreation, kReasoning, kTokenKinds };
  enum UsageOutcome { kReported, kEstimated, kNone, kUsageOutcomes };
  enum ErrorKind { kConnect, kTimeout, kProtocol, kReset, kOtherError, kErrorKinds };
  struct ProviderSeries {
    std::array<uint64_t, kTokenKinds> tokens{};
    uint64_t cost_micro_usd = 0;
    std::array<uint64_t, kUsageOutcomes> usage_outcome{};
    uint64_t default_price = 0;
    std::array<uint64_t, kErrorKinds> upstream_errors{};
  };
  RouteSeries& route_series(std::string_view route);
  ProviderSeries& provider_series(std::string_view provider);

  std::map<std::string, RouteSeries, std::less<>> routes_;
  std::map<std::string, ProviderSeries, std::less<>> providers_;
  Histogram overhead_;
  uint64_t denials_ = 0;  // answered 401, 403 or 429
  CallMetrics calls_;
};

}  // namespace tollway::telemetry
