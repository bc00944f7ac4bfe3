#include "telemetry/call_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace tollway::telemetry {
namespace {

RequestRecord call(std::string tenant, std::string model = "gpt-4o", std::string session = "") {
  RequestRecord r;
  r.operation = "chat";
  r.provider = "openai-eu";
  r.provider_api = "openai";
  r.model = std::move(model);
  r.tenant = std::move(tenant);
  r.agent = "bot";
  r.session = std::move(session);
  r.status = 200;
  r.usage_known = true;
  r.input_tokens = 100;
  r.output_tokens = 11;
  r.cost_micro_usd = 2'500;
  r.total_seconds = 1.5;
  return r;
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(CallMetrics, GenAiFamiliesWithConventionLabelsAndBuckets) {
  CallMetrics m(std::make_shared<LabelAdmissions>());
  RequestRecord r = call("acme");
  r.stream = true;
  r.time_to_first_output_seconds = 0.5;
  m.record(r, {});
  std::string out;
  m.render(out);
  const std::string labels = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\"";
  EXPECT_TRUE(has(out, "# TYPE gen_ai_client_token_usage histogram\n"));
  EXPECT_TRUE(has(out, "gen_ai_client_token_usage_bucket{" + labels + ",gen_ai_token_type=\"input\",le=\"64\"} 0\n")) << out;
  EXPECT_TRUE(has(out, "gen_ai_client_token_usage_bucket{" + labels + ",gen_ai_token_type=\"input\",le=\"256\"} 1\n"));
  EXPECT_TRUE(has(out, "gen_ai_client_token_usage_bucket{" + labels + ",gen_ai_token_type=\"input\",le=\"1048576\"} 1\n"))
      << "bounds are written in full, not as 1.04858e+06";
  EXPECT_TRUE(has(out, "gen_ai_client_token_usage_sum{" + labels + ",gen_ai_token_type=\"output\"} 11\n"));
  EXPECT_TRUE(has(out, "gen_ai_server_request_duration_seconds_bucket{" + labels + ",le=\"1.28\"} 0\n"));
  EXPECT_TRUE(has(out, "gen_ai_server_request_duration_seconds_bucket{" + labels + ",le=\"2.56\"} 1\n"));
  EXPECT_TRUE(has(out, "gen_ai_server_time_to_first_token_seconds_sum{" + labels + "} 0.5\n"));
  // (1.5 - 0.5) s over the 10 tokens after the first one.
  EXPECT_TRUE(has(out, "gen_ai_server_time_per_output_token_seconds_sum{" + labels + "} 0.1\n")) << out;
  EXPECT_TRUE(has(out, "tollway_cost_usd_total{tenant=\"acme\",agent=\"bot\",model=\"gpt-4o\"} 0.0025\n"));
}

TEST(CallMetrics, DurationCarriesErrorTypeOnlyOnFailedCalls) {
  CallMetrics worker_a(std::make_shared<LabelAdmissions>()), worker_b(std::make_shared<LabelAdmissions>());
  worker_a.record(call("acme"), {});
  RequestRecord failed = call("acme");
  failed.status = 429;
  failed.error_type = "429";
  failed.total_seconds = 0.03;
  worker_a.record(failed, {});
  worker_b.record(failed, {});
  CallMetrics m(std::make_shared<LabelAdmissions>());
  m.merge(worker_a);
  m.merge(worker_b);
  std::string out;
  m.render(out);
  const std::string labels = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o\"";
  EXPECT_TRUE(has(out, "gen_ai_server_request_duration_seconds_count{" + labels + "} 1\n")) << out;
  EXPECT_TRUE(has(out, "gen_ai_server_request_duration_seconds_count{" + labels + ",error_type=\"429\"} 2\n")) << out;
  EXPECT_TRUE(has(out, "gen_ai_server_request_duration_seconds_bucket{" + labels + ",error_type=\"429\",le=\"0.04\"} 2\n"));
  EXPECT_FALSE(has(out, "error_type=\"\""));
  // Only the duration is split by it: the token histogram keeps one series for both calls.
  EXPECT_TRUE(has(out, "gen_ai_client_token_usage_count{" + labels + ",gen_ai_token_type=\"input\"} 3\n")) << out;
  EXPECT_FALSE(has(out, "gen_ai_client_token_usage_count{" + labels + ",error_type"));

  std::vector<Metric> metrics;
  m.append_otlp(metrics, 1, 2);
  const auto it = std::find_if(metrics.begin(), metrics.end(),
                               [](const Metric& x) { return x.name == "gen_ai.server.request.duration"; });
  ASSERT_NE(it, metrics.end());
  const auto& points = std::get<HistogramData>(it->data).points;
  ASSERT_EQ(points.size(), 2u);
  std::size_t with_error = 0;
  for (const auto& p : points) {
    if (const Attribute* error = p.attributes.find("error.type")) {
      ++with_error;
      EXPECT_EQ(std::get<std::string>(error->value), "429");
      EXPECT_EQ(p.count, 2u);
    } else {
      EXPECT_EQ(p.count, 1u);
    }
  }
  EXPECT_EQ(with_error, 1u);
}

TEST(CallMetrics, NoGenAiSeriesWithoutAnUpstreamCall) {
  CallMetrics m(std::make_shared<LabelAdmissions>());
  RequestRecord r = call("acme");
  r.provider.clear();
  r.denied = true;
  r.decision_filter = "caller_auth";
  r.decision_rule = "revoked_key";
  m.record(r, {});
  std::string out;
  m.render(out);
  EXPECT_FALSE(has(out, "gen_ai_client_token_usage_bucket"));
  EXPECT_TRUE(has(out, "tollway_denials_total{filter=\"caller_auth\",rule=\"revoked_key\"} 1\n"));
}

TEST(CallMetrics, TenantCapIsProcessWideAndStable) {
  auto admissions = std::make_shared<LabelAdmissions>();
  CallMetrics worker_a(admissions), worker_b(admissions);
  const LabelCaps caps{.tenants = 2, .agents = 10, .sessions = 10, .models = 10};
  worker_a.record(call("t1"), caps);
  worker_b.record(call("t2"), caps);
  worker_a.record(call("t3"), caps);  // past the cap: the other worker admitted t2
  worker_b.record(call("t1"), caps);  // admitted elsewhere: keeps its own series
  worker_b.record(call("t3"), caps);
  CallMetrics total(admissions);
  total.merge(worker_a);
  total.merge(worker_b);
  std::string out;
  total.render(out);
  EXPECT_TRUE(has(out, "tollway_attributed_requests_total{tenant=\"t1\",agent=\"bot\",model=\"gpt-4o\"} 2\n")) << out;
  EXPECT_TRUE(has(out, "tollway_attributed_requests_total{tenant=\"t2\",agent=\"bot\",model=\"gpt-4o\"} 1\n"));
  EXPECT_TRUE(has(out, "tollway_attributed_requests_total{tenant=\"_overflow\",agent=\"bot\",model=\"gpt-4o\"} 2\n"));
  EXPECT_FALSE(has(out, "t3"));
  EXPECT_TRUE(has(out, "tollway_metric_label_overflow_total{label=\"tenant\"} 2\n"));
  EXPECT_EQ(admissions->tenant.admitted(), 2u);
}

TEST(CallMetrics, SessionAndModelCaps) {
  CallMetrics m(std::make_shared<LabelAdmissions>());
  const LabelCaps caps{.tenants = 10, .agents = 10, .sessions = 1, .models = 1};
  m.record(call("acme", "gpt-4o", "s1"), caps);
  m.record(call("acme", "gpt-4o-mini", "s2"), caps);
  std::string out;
  m.render(out);
  EXPECT_TRUE(has(out, "tollway_session_cost_usd_total{tenant=\"acme\",session=\"s1\"} 0.0025\n")) << out;
  EXPECT_TRUE(has(out, "tollway_session_cost_usd_total{tenant=\"acme\",session=\"_overflow\"} 0.0025\n"));
  EXPECT_TRUE(has(out, "gen_ai_request_model=\"_overflow\""));
  EXPECT_FALSE(has(out, "gpt-4o-mini"));
  EXPECT_TRUE(has(out, "tollway_metric_label_overflow_total{label=\"model\"} 1\n"));
}

TEST(CallMetrics, TraceContextArrivalsAreCounted) {
  CallMetrics m(std::make_shared<LabelAdmissions>());
  RequestRecord r = call("acme");
  r.incoming = IncomingTraceparent::Valid;
  r.restarted = true;
  m.record(r, {});
  r.incoming = IncomingTraceparent::Absent;
  r.restarted = false;
  m.record(r, {});
  std::string out;
  m.render(out);
  EXPECT_TRUE(has(out, "tollway_trace_context_requests_total{incoming=\"valid\",restarted=\"true\"} 1\n"));
  EXPECT_TRUE(has(out, "tollway_trace_context_requests_total{incoming=\"absent\",restarted=\"false\"} 1\n"));
}

TEST(CallMetrics, OtlpHistogramsAreConsistent) {
  CallMetrics m(std::make_shared<LabelAdmissions>());
  m.record(call("acme"), {});
  std::vector<Metric> metrics;
  m.append_otlp(metrics, 1, 2);
  ASSERT_FALSE(metrics.empty());
  EXPECT_EQ(metrics[0].name, "gen_ai.client.token.usage");
  const auto& points = std::get<HistogramData>(metrics[0].data).points;
  ASSERT_EQ(points.size(), 2u);  // input and output
  for (const auto& p : points) EXPECT_TRUE(p.consistent());
  EXPECT_NE(points[0].attributes.find("gen_ai.token.type"), nullptr);
}

TEST(LabelAdmission, ConcurrentAdmissionsNeverExceedTheCap) {
  LabelAdmission a;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&a, t] {
      for (int i = 0; i < 500; ++i) a.admit("v" + std::to_string(t * 1000 + i), 37);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.admitted(), 37u);
}

}  // namespace
}  // namespace tollway::telemetry
