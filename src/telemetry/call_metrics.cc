#include "telemetry/call_metrics.h"

#include "core/prometheus_text.h"
#include "telemetry/genai_semconv.h"

namespace tollway::telemetry {
namespace {

namespace prometheus = core::prometheus;

constexpr char kSep = '\x1f';
constexpr const char* kCappedNames[] = {"tenant", "agent", "session", "model"};
constexpr const char* kIncomingNames[] = {"absent", "valid", "invalid", "duplicated"};

std::vector<std::string_view> split(std::string_view key) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = key.find(kSep);
    parts.push_back(key.substr(0, at));
    if (at == std::string_view::npos) return parts;
    key.remove_prefix(at + 1);
  }
}

// `name="value",...` for the label names and the key's parts, in order.
std::string labels_of(std::string_view key, std::initializer_list<std::string_view> names) {
  const auto parts = split(key);
  std::string out;
  std::size_t i = 0;
  for (const auto name : names) {
    prometheus::add_label(out, name, i < parts.size() ? parts[i] : "");
    ++i;
  }
  return out;
}

AttributeList attributes_of(std::string_view key, std::initializer_list<std::string_view> names) {
  const auto parts = split(key);
  AttributeList a;
  std::size_t i = 0;
  for (const auto name : names) {
    if (i < parts.size() && !parts[i].empty()) a.set(name, parts[i]);
    ++i;
  }
  return a;
}

HistogramPoint point_of(const ExplicitHistogram& h, AttributeList attributes, uint64_t start, uint64_t now) {
  HistogramPoint p;
  p.attributes = std::move(attributes);
  p.start_unix_nano = start;
  p.time_unix_nano = now;
  p.count = h.count();
  p.sum = h.sum();
  p.bucket_counts = h.counts();
  p.explicit_bounds.assign(h.bounds().begin(), h.bounds().end());
  return p;
}

}  // namespace

CallMetrics::GenAiSeries::GenAiSeries()
    : input_tokens(genai::kTokenUsageBuckets),
      output_tokens(genai::kTokenUsageBuckets),
      time_to_first_token(genai::kTimeToFirstTokenBuckets),
      time_per_output_token(genai::kTimePerOutputTokenBuckets) {}

CallMetrics::DurationSeries::DurationSeries() : duration(genai::kDurationBuckets) {}

CallMetrics::CallMetrics(std::shared_ptr<LabelAdmissions> admissions) : admissions_(std::move(admissions)) {}

template <typename Map>
typename Map::mapped_type& CallMetrics::series(Map& map) {
  auto it = map.find(scratch_);
  if (it == map.end()) it = map.emplace(scratch_, typename Map::mapped_type{}).first;
  return it->second;
}

void CallMetrics::record(const RequestRecord& r, const LabelCaps& caps) {
  LabelAdmissions& a = *admissions_;
  const std::string_view tenant = capped_[kTenant].resolve(r.tenant, caps.tenants, a.tenant, overflows_[kTenant]);
  const std::string_view agent = capped_[kAgent].resolve(r.agent, caps.agents, a.agent, overflows_[kAgent]);
  const std::string_view model = capped_[kModel].resolve(r.model, caps.models, a.model, overflows_[kModel]);
  ++trace_incoming_[static_cast<std::size_t>(r.incoming)][r.restarted ? 1 : 0];
  if (r.denied) {
    scratch_.assign(r.decision_filter).push_back(kSep);
    scratch_.append(r.decision_rule);
    ++series(denials_);
  }
  if (r.provider.empty()) return;  // no upstream call: no usage, no GenAI series
  const bool ok = r.status >= 200 && r.status < 300;
  if (!r.operation.empty()) {
    scratch_.assign(r.operation).push_back(kSep);
    scratch_.append(r.provider_api).push_back(kSep);
    scratch_.append(model);
    GenAiSeries& g = series(genai_);
    if (r.usage_known || r.usage_estimated) {
      g.input_tokens.observe(static_cast<double>(r.input_tokens));
      g.output_tokens.observe(static_cast<double>(r.output_tokens));
    }
    scratch_.push_back(kSep);
    scratch_.append(r.error_type);
    series(durations_).duration.observe(r.total_seconds);
    if (ok && r.stream && r.time_to_first_output_seconds >= 0) {
      g.time_to_first_token.observe(r.time_to_first_output_seconds);
      if (r.output_tokens > 1)
        g.time_per_output_token.observe((r.total_seconds - r.time_to_first_output_seconds) /
                                        static_cast<double>(r.output_tokens - 1));
    }
  }
  scratch_.assign(tenant).push_back(kSep);
  scratch_.append(agent).push_back(kSep);
  scratch_.append(model);
  CostSeries& c = series(cost_);
  c.cost_micro_usd += r.cost_micro_usd;
  c.input_tokens += r.input_tokens;
  c.output_tokens += r.output_tokens;
  ++c.requests;
  if (!r.session.empty()) {
    const std::string_view session =
        capped_[kSession].resolve(r.session, caps.sessions, a.session, overflows_[kSession]);
    scratch_.assign(tenant).push_back(kSep);
    scratch_.append(session);
    CostSeries& s = series(sessions_);
    s.cost_micro_usd += r.cost_micro_usd;
    s.input_tokens += r.input_tokens;
    s.output_tokens += r.output_tokens;
    ++s.requests;
  }
}

void CallMetrics::merge(const CallMetrics& other) {
  for (const auto& [key, g] : other.genai_) {
    auto it = genai_.find(key);
    if (it == genai_.end()) {
      genai_.emplace(key, g);
      continue;
    }
    it->second.input_tokens.merge(g.input_tokens);
    it->second.output_tokens.merge(g.output_tokens);
    it->second.time_to_first_token.merge(g.time_to_first_token);
    it->second.time_per_output_token.merge(g.time_per_output_token);
  }
  for (const auto& [key, d] : other.durations_) {
    auto it = durations_.find(key);
    if (it == durations_.end()) durations_.emplace(key, d);
    else it->second.duration.merge(d.duration);
  }
  auto merge_cost = [](auto& into, const auto& from) {
    for (const auto& [key, c] : from) {
      CostSeries& m = into[key];
      m.cost_micro_usd += c.cost_micro_usd;
      m.input_tokens += c.input_tokens;
      m.output_tokens += c.output_tokens;
      m.requests += c.requests;
    }
  };
  merge_cost(cost_, other.cost_);
  merge_cost(sessions_, other.sessions_);
  for (const auto& [key, n] : other.denials_) denials_[key] += n;
  for (std::size_t i = 0; i < trace_incoming_.size(); ++i)
    for (std::size_t j = 0; j < 2; ++j) trace_incoming_[i][j] += other.trace_incoming_[i][j];
  for (std::size_t i = 0; i < kCappedLabels; ++i) overflows_[i] += other.overflows_[i];
}

void CallMetrics::render(std::string& out) const {
  const std::initializer_list<std::string_view> genai_labels = {
      genai::kPromLabelOperationName, genai::kPromLabelProviderName, genai::kPromLabelRequestModel};
  prometheus::family(
      out, genai::kPromClientTokenUsage, "histogram",
      "Tokens used by GenAI calls through the gateway, by operation, provider, model and token type.");
  for (const auto& [key, g] : genai_) {
    const std::string labels = labels_of(key, genai_labels);
    std::string input = labels;
    std::string output = labels;
    prometheus::add_label(input, "gen_ai_token_type", "input");
    prometheus::add_label(output, "gen_ai_token_type", "output");
    g.input_tokens.render(out, genai::kPromClientTokenUsage, input);
    g.output_tokens.render(out, genai::kPromClientTokenUsage, output);
  }
  struct Family {
    std::string_view name;
    const char* help;
    ExplicitHistogram GenAiSeries::*member;
  };
  prometheus::family(
      out, genai::kPromServerRequestDuration, "histogram",
      "Duration of GenAI requests as the gateway served them; error_type only on failed requests.");
  for (const auto& [key, d] : durations_) {
    std::string labels = labels_of(key, genai_labels);
    if (const auto error_type = split(key).back(); !error_type.empty())
      prometheus::add_label(labels, genai::kPromLabelErrorType, error_type);
    d.duration.render(out, genai::kPromServerRequestDuration, labels);
  }
  const Family families[] = {
      {genai::kPromServerTimeToFirstToken,
       "Time from a streamed request's arrival to its first response body byte sent to the caller.",
       &GenAiSeries::time_to_first_token},
      {genai::kPromServerTimePerOutputToken,
       "Time per output token of streamed responses after the first one.", &GenAiSeries::time_per_output_token},
  };
  for (const auto& f : families) {
    prometheus::family(out, f.name, "histogram", f.help);
    for (const auto& [key, g] : genai_) (g.*f.member).render(out, f.name, labels_of(key, genai_labels));
  }
  prometheus::family(
      out, "tollway_cost_usd_total", "counter",
      "Cost of proxied calls in USD (provider-reported usage, or the estimate), by tenant, agent and model.");
  for (const auto& [key, c] : cost_)
    prometheus::sample_real(out, "tollway_cost_usd_total", labels_of(key, {"tenant", "agent", "model"}),
                            static_cast<double>(c.cost_micro_usd) / 1e6);
  prometheus::family(out, "tollway_attributed_tokens_total", "counter",
                     "Tokens of proxied calls by tenant, agent, model and type.");
  for (const auto& [key, c] : cost_) {
    for (const auto& [type, tokens] :
         {std::pair{"input", c.input_tokens}, std::pair{"output", c.output_tokens}}) {
      std::string labels = labels_of(key, {"tenant", "agent", "model"});
      prometheus::add_label(labels, "token_type", type);
      prometheus::sample(out, "tollway_attributed_tokens_total", labels, tokens);
    }
  }
  prometheus::family(out, "tollway_attributed_requests_total", "counter",
                     "Proxied calls by tenant, agent and model.");
  for (const auto& [key, c] : cost_)
    prometheus::sample(out, "tollway_attributed_requests_total", labels_of(key, {"tenant", "agent", "model"}),
                       c.requests);
  prometheus::family(
      out, "tollway_session_cost_usd_total", "counter",
      "Cost of proxied calls in USD by tenant and session (x-session-id header, or the OpenAI user field).");
  for (const auto& [key, c] : sessions_)
    prometheus::sample_real(out, "tollway_session_cost_usd_total", labels_of(key, {"tenant", "session"}),
                            static_cast<double>(c.cost_micro_usd) / 1e6);
  prometheus::family(out, "tollway_denials_total", "counter",
                     "Requests the gateway denied itself (authentication, authorization, limits, budgets), "
                     "by filter and rule.");
  for (const auto& [key, n] : denials_)
    prometheus::sample(out, "tollway_denials_total", labels_of(key, {"filter", "rule"}), n);
  prometheus::family(
      out, "tollway_trace_context_requests_total", "counter",
      "Requests by the W3C traceparent they arrived with (absent, valid, invalid, duplicated) and whether a "
      "valid one was restarted at the trust boundary.");
  for (std::size_t i = 0; i < trace_incoming_.size(); ++i)
    for (std::size_t j = 0; j < 2; ++j)
      if (trace_incoming_[i][j] || j == 0)
        prometheus::sample(
            out, "tollway_trace_context_requests_total",
            prometheus::labels({{"incoming", kIncomingNames[i]}, {"restarted", j ? "true" : "false"}}),
            trace_incoming_[i][j]);
  prometheus::family(
      out, "tollway_metric_label_overflow_total", "counter",
      "Requests whose label value was past the label's cardinality cap and was reported as \"_overflow\".");
  for (std::size_t i = 0; i < kCappedLabels; ++i)
    prometheus::sample(out, "tollway_metric_label_overflow_total",
                       prometheus::labels({{"label", kCappedNames[i]}}), overflows_[i]);
}

void CallMetrics::append_otlp(std::vector<Metric>& out, uint64_t start, uint64_t now) const {
  const std::initializer_list<std::string_view> genai_attributes = {genai::kOperationName, genai::kProviderName,
                                                                    genai::kRequestModel};
  Metric tokens{std::string(genai::kMetricClientTokenUsage), "Measures number of input and output tokens used.",
                "{token}", HistogramData{}};
  Metric duration{std::string(genai::kMetricServerRequestDuration), "Generative AI server request duration.", "s",
                  HistogramData{}};
  Metric ttft{std::string(genai::kMetricServerTimeToFirstToken), "Time to generate first token for successful responses.",
              "s", HistogramData{}};
  Metric tpot{std::string(genai::kMetricServerTimePerOutputToken), "Time per output token generated after the first token.",
              "s", HistogramData{}};
  for (const auto& [key, g] : genai_) {
    for (const auto& [h, type] : {std::pair{&g.input_tokens, "input"}, std::pair{&g.output_tokens, "output"}}) {
      AttributeList a = attributes_of(key, genai_attributes);
      a.set(genai::kTokenType, type);
      std::get<HistogramData>(tokens.data).points.push_back(point_of(*h, std::move(a), start, now));
    }
    if (g.time_to_first_token.count())
      std::get<HistogramData>(ttft.data).points.push_back(
          point_of(g.time_to_first_token, attributes_of(key, genai_attributes), start, now));
    if (g.time_per_output_token.count())
      std::get<HistogramData>(tpot.data).points.push_back(
          point_of(g.time_per_output_token, attributes_of(key, genai_attributes), start, now));
  }
  for (const auto& [key, d] : durations_)
    std::get<HistogramData>(duration.data)
        .points.push_back(point_of(d.duration,
                                   attributes_of(key, {genai::kOperationName, genai::kProviderName,
                                                       genai::kRequestModel, genai::kErrorType}),
                                   start, now));
  Metric cost{"tollway.cost", "Cost of proxied calls by tenant, agent and model.", "USD", SumData{}};
  for (const auto& [key, c] : cost_) {
    NumberPoint p;
    p.attributes = attributes_of(key, {"tollway.tenant", "tollway.agent", genai::kRequestModel});
    p.start_unix_nano = start;
    p.time_unix_nano = now;
    p.value = static_cast<double>(c.cost_micro_usd) / 1e6;
    std::get<SumData>(cost.data).points.push_back(std::move(p));
  }
  Metric denials{"tollway.denials", "Requests the gateway denied itself, by filter and rule.", "{request}", SumData{}};
  for (const auto& [key, n] : denials_) {
    NumberPoint p;
    p.attributes = attributes_of(key, {"tollway.decision.filter", "tollway.decision.rule"});
    p.start_unix_nano = start;
    p.time_unix_nano = now;
    p.value = static_cast<int64_t>(n);
    std::get<SumData>(denials.data).points.push_back(std::move(p));
  }
  for (Metric* m : {&tokens, &duration, &ttft, &tpot, &cost, &denials}) {
    const bool empty = std::visit([](const auto& d) { return d.points.empty(); }, m->data);
    if (!empty) out.push_back(std::move(*m));
  }
}

}  // namespace tollway::telemetry
