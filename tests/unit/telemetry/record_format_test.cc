#include "telemetry/record_format.h"

#include <gtest/gtest.h>

#include "telemetry/otlp_json.h"

namespace tollway::telemetry {
namespace {

RequestRecord retried_call() {
  RequestRecord r;
  r.request_id = "req-1";
  r.trace_id = *TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  r.span_id = *SpanId::from_hex("1111111111111111");
  r.parent_span_id = *SpanId::from_hex("00f067aa0ba902b7");
  r.trace_flags = 1;
  r.sampled = true;
  r.incoming = IncomingTraceparent::Valid;
  r.method = "POST";
  r.route = "/v1/chat/completions";
  r.operation = "chat";
  r.tenant = "acme";
  r.agent = "planner";
  r.session = "s-9";
  r.provider = "openai";
  r.provider_api = "openai";
  r.model = "gpt-4o";
  r.status = 200;
  r.attempts = 2;
  r.usage_known = true;
  r.input_tokens = 12;
  r.output_tokens = 5;
  r.cost_micro_usd = 1234;
  r.start_unix_nano = 1'700'000'000'000'000'000;
  r.end_unix_nano = r.start_unix_nano + 250'000'000;
  r.total_seconds = 0.25;
  r.gateway_seconds = 0.001;
  r.upstream_ttfb_seconds = 0.1;
  r.upstream_stream_seconds = 0.05;
  for (int i = 0; i < 2; ++i) {
    AttemptSpanRecord& a = r.upstream_attempts.emplace_back();
    a.span_id = *SpanId::from_hex(i == 0 ? "2222222222222222" : "3333333333333333");
    a.provider = "openai";
    a.provider_api = "openai";
    a.endpoint = "http://127.0.0.1:9000";
    a.model = "gpt-4o";
    a.start_unix_nano = r.start_unix_nano + static_cast<uint64_t>(i) * 100'000'000;
    a.end_unix_nano = a.start_unix_nano + 50'000'000;
    a.status = i == 0 ? 503 : 200;
    a.failure = i == 0 ? "5xx" : "";
  }
  return r;
}

const Attribute* attr(const Span& s, std::string_view key) { return s.attributes.find(key); }

TEST(RecordSpans, ServerSpanThenOneClientSpanPerAttempt) {
  std::vector<Span> spans;
  append_spans(retried_call(), spans);
  ASSERT_EQ(spans.size(), 3u);
  const Span& server = spans[0];
  EXPECT_EQ(server.kind, SpanKind::Server);
  EXPECT_EQ(server.parent_span_id.hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(server.parent_is_remote);
  EXPECT_EQ(server.name, "POST /v1/chat/completions");
  EXPECT_EQ(std::get<std::string>(attr(server, "gen_ai.operation.name")->value), "chat");
  EXPECT_EQ(std::get<int64_t>(attr(server, "gen_ai.usage.input_tokens")->value), 12);
  EXPECT_EQ(std::get<std::string>(attr(server, "tollway.tenant")->value), "acme");
  EXPECT_EQ(std::get<std::string>(attr(server, "gen_ai.conversation.id")->value), "s-9");
  EXPECT_DOUBLE_EQ(std::get<double>(attr(server, "tollway.cost_usd")->value), 0.001234);
  EXPECT_EQ(attr(server, "gen_ai.input.messages"), nullptr);
  EXPECT_EQ(server.status_code, StatusCode::Unset);
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(spans[i].kind, SpanKind::Client);
    EXPECT_EQ(spans[i].parent_span_id, server.span_id);
    EXPECT_FALSE(spans[i].parent_is_remote);
    EXPECT_EQ(spans[i].trace_id, server.trace_id);
    EXPECT_EQ(spans[i].name, "chat gpt-4o");
    EXPECT_EQ(std::get<int64_t>(attr(spans[i], "tollway.attempt")->value), i);
  }
  EXPECT_EQ(spans[1].status_code, StatusCode::Error);
  EXPECT_EQ(std::get<std::string>(attr(spans[1], "error.type")->value), "5xx");
  EXPECT_EQ(attr(spans[1], "gen_ai.usage.output_tokens"), nullptr) << "usage belongs to the answering attempt";
  EXPECT_EQ(spans[2].status_code, StatusCode::Unset);
  EXPECT_EQ(std::get<int64_t>(attr(spans[2], "gen_ai.usage.output_tokens")->value), 5);
}

TEST(RecordSpans, ContentOnlyWhenTheRecordHoldsIt) {
  RequestRecord r = retried_call();
  r.input_content = R"({"messages":[]})";
  r.output_content = R"({"choices":[]})";
  std::vector<Span> spans;
  append_spans(r, spans);
  EXPECT_EQ(std::get<std::string>(attr(spans[0], "gen_ai.input.messages")->value), r.input_content);
  EXPECT_EQ(std::get<std::string>(attr(spans[0], "gen_ai.output.messages")->value), r.output_content);
}

TEST(RecordSpans, EncodeAsOtlpJson) {
  std::vector<Span> spans;
  append_spans(retried_call(), spans);
  const std::string json = encode_trace_export_request(Resource::for_service("tollway", "1", "x"), {}, spans);
  EXPECT_NE(json.find("\"parentSpanId\":\"00f067aa0ba902b7\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"kind\":3"), std::string::npos);
  EXPECT_NE(json.find("\"startTimeUnixNano\":\"1700000000000000000\""), std::string::npos);
}

TEST(AccessLog, OneJsonLineWithTheLatencySplit) {
  const std::string line = access_log_line(retried_call());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  for (const char* field :
       {"\"type\":\"access\"", "\"request_id\":\"req-1\"", "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"",
        "\"tenant\":\"acme\"", "\"agent\":\"planner\"", "\"session\":\"s-9\"", "\"model\":\"gpt-4o\"",
        "\"status\":200", "\"attempts\":2", "\"input_tokens\":12", "\"output_tokens\":5", "\"usage\":\"reported\"",
        "\"cost_micro_usd\":1234", "\"latency_ms\":{\"total\":250,\"tollway\":1,\"upstream_ttfb\":100,\"stream\":50}",
        "\"trace_context\":\"valid\"", "\"ts\":\"2023-11-14T22:13:20.250Z\""})
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  EXPECT_EQ(line.find("\"decision\""), std::string::npos);
}

TEST(DecisionLog, NamesFilterRuleAndPolicyVersion) {
  RequestRecord r = retried_call();
  r.denied = true;
  r.status = 429;
  r.decision_filter = "limits";
  r.decision_rule = "acme-tpm";
  r.decision_reason = "tokens per minute exceeded";
  r.shadow_rules = {"acme-rpm"};
  r.policy_version = "abcdef012345";
  r.policy_generation = 7;
  const std::string line = decision_log_line(r);
  for (const char* field :
       {"\"type\":\"decision\"", "\"status\":429",
        "\"decision\":{\"filter\":\"limits\",\"rule\":\"acme-tpm\",\"reason\":\"tokens per minute exceeded\"}",
        "\"shadow_rules\":[\"acme-rpm\"]", "\"policy_version\":\"abcdef012345\"", "\"policy_generation\":7"})
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
}

}  // namespace
}  // namespace tollway::telemetry
