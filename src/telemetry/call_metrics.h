// CallMetrics: the per-call series of one worker — the OpenTelemetry GenAI metrics (token usage, request
// duration, time to first token, time per output token by operation / provider / model; the duration also by
// error.type on failed calls, from the bounded set of telemetry/error_type.h), cost and tokens by
// tenant / agent / model and by session, denials by filter and rule, and how callers' trace context arrived.
// Recorded from a RequestRecord on the worker's thread (no lock: a known label value costs map lookups and no
// allocation), merged with the other workers' copies at scrape time, rendered as Prometheus text or OTLP metrics.
// Caller-controlled label values go through the label caps (label_cap.h); it never creates a series for a
// value past its cap.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/explicit_histogram.h"
#include "telemetry/label_cap.h"
#include "telemetry/otlp_json.h"
#include "telemetry/request_record.h"

namespace tollway::telemetry {

struct LabelCaps {
  std::size_t tenants = 100, agents = 200, sessions = 1000, models = 100;
};

class CallMetrics {
 public:
  explicit CallMetrics(std::shared_ptr<LabelAdmissions> admissions = LabelAdmissions::process_wide());
  void record(const RequestRecord& r, const LabelCaps& caps);
  void merge(const CallMetrics& other);
  void render(std::string& out) const;
  // The GenAI histograms, cost and denials as OTLP metrics (cumulative since `start_unix_nano`).
  void append_otlp(std::vector<Metric>& out, uint64_t start_unix_nano, uint64_t now_unix_nano) const;

 private:
  struct GenAiSeries {
    GenAiSeries();
    ExplicitHistogram input_tokens, output_tokens, time_to_first_token, time_per_output_token;
  };
  struct DurationSeries {
    DurationSeries();
    ExplicitHistogram duration;
  };
  struct CostSeries {
    int64_t cost_micro_usd = 0;
    uint64_t input_tokens = 0, output_tokens = 0, requests = 0;
  };
  enum Capped { kTenant, kAgent, kSession, kModel, kCappedLabels };

  // Keys join label values with '\x1f' (never valid in the values we keep); found through scratch_.
  template <typename Map>
  typename Map::mapped_type& series(Map& map);

  std::shared_ptr<LabelAdmissions> admissions_;
  std::array<CappedLabel, kCappedLabels> capped_;
  std::array<uint64_t, kCappedLabels> overflows_{};
  std::map<std::string, GenAiSeries, std::less<>> genai_;       // operation, provider, model
  std::map<std::string, DurationSeries, std::less<>> durations_;  // operation, provider, model, error type
  std::map<std::string, CostSeries, std::less<>> cost_;         // tenant, agent, model
  std::map<std::string, CostSeries, std::less<>> sessions_;     // tenant, session
  std::map<std::string, uint64_t, std::less<>> denials_;        // filter, rule
  std::array<std::array<uint64_t, 2>, 4> trace_incoming_{};     // IncomingTraceparent x restarted
  std::string scratch_;
};

}  // namespace tollway::telemetry
