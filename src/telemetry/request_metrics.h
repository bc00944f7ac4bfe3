// RequestMetrics: the request counters and latency histograms of one worker thread. Only its worker writes
// it; the admin listener asks each worker for a copy and merges them (message passing, no locks on the
// request path). It never stores unbounded label values: routes and providers come from the config.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "telemetry/histogram.h"

namespace tollway::telemetry {

class RequestMetrics {
 public:
  // `route` is the configured path ("" for requests no route matched), `provider` "" when none was chosen.
  void record_request(const std::string& route, const std::string& provider, int status, double seconds,
                      double gateway_overhead_seconds, bool upstream_contacted);
  // kind: "connect", "timeout", "protocol", "reset".
  void record_upstream_error(const std::string& provider, const std::string& kind);
  // Usage of one proxied call as the provider reported (or the gateway estimated) it, with its cost.
  struct UsageSample {
    uint64_t input = 0, output = 0, cached_input = 0, cache_creation = 0, reasoning = 0;
    int64_t cost_micro_usd = 0;
    bool known = false, estimated = false, priced_at_default = false;
  };
  void record_usage(const std::string& provider, const UsageSample& usage);
  void merge(const RequestMetrics& other);
  void render(std::string& out) const;

 private:
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> requests_;  // route, provider, class
  std::map<std::string, Histogram> duration_;                                     // by route
  Histogram overhead_;
  std::map<std::pair<std::string, std::string>, uint64_t> upstream_errors_;
  std::map<std::pair<std::string, std::string>, uint64_t> usage_tokens_;  // provider, kind
  std::map<std::string, uint64_t> cost_micro_usd_;                         // by provider
  std::map<std::pair<std::string, std::string>, uint64_t> usage_outcome_;  // provider, reported|estimated|none
  std::map<std::string, uint64_t> default_price_;                          // by provider
};

// Escapes a Prometheus label value (backslash, double quote, newline).
std::string escape_label(std::string_view value);

}  // namespace tollway::telemetry
