// The spans of a request record as OTLP JSON, decoded with simdjson: one SERVER span, one CLIENT span per
// upstream attempt parented to it, GenAI attributes where the semantic conventions put them, the JSON types
// the OTLP encoding requires, and valid JSON for any string a record can hold.
#include "telemetry/span_json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>
#include <string>

#include "otlp_decode.h"
#include "sample_record.h"
#include "telemetry/otlp_json.h"

namespace tollway::telemetry {
namespace {

using otlp_decode::attribute_value;
using otlp_decode::Decoded;
using otlp_decode::has_attribute;
using otlp_decode::integer;
using otlp_decode::is_lower_hex;
using otlp_decode::str;
using samples::retried_call;
using simdjson::dom::element;

// A whole export request holding the spans of `records`, as the telemetry thread builds it.
std::string export_request(std::initializer_list<RequestRecord> records) {
  TextBuffer json;
  json.append(trace_request_prefix(Resource::for_service("tollway", "1", "x"), {}));
  bool first = true;
  for (const RequestRecord& r : records) {
    EXPECT_EQ(append_request_spans(json, r, first), span_count(r));
    first = false;
  }
  json.append(kTraceRequestSuffix);
  return std::string(json.view());
}

element spans_of(Decoded& d) {
  return d.root["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"];
}

TEST(SpanJson, ServerSpanThenOneClientSpanPerAttempt) {
  Decoded d(export_request({retried_call()}));
  element spans = spans_of(d);
  ASSERT_EQ(spans.get_array().size(), 3u);

  element server = spans.at(0);
  EXPECT_TRUE(is_lower_hex(str(server["traceId"]), 32));
  EXPECT_EQ(str(server["traceId"]), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(str(server["spanId"]), "1111111111111111");
  EXPECT_EQ(str(server["parentSpanId"]), "00f067aa0ba902b7");
  EXPECT_EQ(integer(server["flags"]), 0x301);  // sampled, has-is-remote, is-remote
  EXPECT_EQ(integer(server["kind"]), 2);
  EXPECT_EQ(str(server["name"]), "POST /v1/chat/completions");
  EXPECT_EQ(str(server["startTimeUnixNano"]), "1700000000000000000");
  EXPECT_EQ(str(server["endTimeUnixNano"]), "1700000000250000000");
  EXPECT_EQ(integer(server["status"]["code"]), 0);
  element a = server["attributes"];
  EXPECT_EQ(str(attribute_value(a, "gen_ai.operation.name")["stringValue"]), "chat");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.provider.name")["stringValue"]), "openai");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.request.model")["stringValue"]), "gpt-4o");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.usage.input_tokens")["intValue"]), "12");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.usage.output_tokens")["intValue"]), "5");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.conversation.id")["stringValue"]), "s-9");
  EXPECT_EQ(str(attribute_value(a, "tollway.tenant")["stringValue"]), "acme");
  EXPECT_EQ(str(attribute_value(a, "tollway.agent")["stringValue"]), "planner");
  EXPECT_EQ(str(attribute_value(a, "http.response.status_code")["intValue"]), "200");
  EXPECT_EQ(str(attribute_value(a, "tollway.attempts")["intValue"]), "2");
  EXPECT_EQ(double(attribute_value(a, "tollway.cost_usd")["doubleValue"]), 0.001234);
  EXPECT_EQ(bool(attribute_value(a, "tollway.usage.estimated")["boolValue"]), false);
  EXPECT_FALSE(has_attribute(a, "gen_ai.input.messages"));
  EXPECT_FALSE(has_attribute(a, "error.type"));

  for (std::size_t i = 1; i <= 2; ++i) {
    element client = spans.at(i);
    EXPECT_EQ(integer(client["kind"]), 3);
    EXPECT_EQ(str(client["traceId"]), "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(str(client["parentSpanId"]), "1111111111111111");
    EXPECT_EQ(integer(client["flags"]), 0x101);  // sampled, has-is-remote, parent local
    EXPECT_EQ(str(client["name"]), "chat gpt-4o");
    EXPECT_EQ(str(attribute_value(client["attributes"], "tollway.attempt")["intValue"]), std::to_string(i));
    // The full request URL (OTel HTTP client semconv): the endpoint's origin, then the path and query sent.
    EXPECT_EQ(str(attribute_value(client["attributes"], "url.full")["stringValue"]),
              "http://127.0.0.1:9000/openai/v1/chat/completions?api-version=2024-10-21");
  }
  element failed = spans.at(1);
  EXPECT_EQ(str(failed["spanId"]), "2222222222222222");
  EXPECT_EQ(integer(failed["status"]["code"]), 2);
  EXPECT_EQ(str(failed["status"]["message"]), "5xx");
  EXPECT_EQ(str(attribute_value(failed["attributes"], "error.type")["stringValue"]), "5xx");
  EXPECT_EQ(str(attribute_value(failed["attributes"], "http.response.status_code")["intValue"]), "503");
  EXPECT_FALSE(has_attribute(failed["attributes"], "gen_ai.usage.output_tokens"))
      << "usage belongs to the answering attempt";
  element answered = spans.at(2);
  EXPECT_EQ(integer(answered["status"]["code"]), 0);
  element missing;
  EXPECT_EQ(answered["status"]["message"].get(missing), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(str(attribute_value(answered["attributes"], "gen_ai.usage.output_tokens")["intValue"]), "5");
  EXPECT_EQ(str(attribute_value(answered["attributes"], "gen_ai.response.model")["stringValue"]), "gpt-4o");
}

TEST(SpanJson, RootErrorDenialAndContent) {
  RequestRecord r = retried_call();
  r.parent_span_id = SpanId{};  // a root: no parent id, no remote bits
  r.trace_flags = 0;
  r.status = 502;
  r.error_code = "upstream_unavailable";
  r.error_type = "502";
  r.denied = true;
  r.decision_filter = "limits";
  r.decision_rule = "acme-tpm";
  r.decision_reason = "tokens per minute exceeded";
  r.policy_version = "abc123";
  r.input_content = R"({"messages":[{"role":"user","content":"hi"}]})";
  r.output_content = R"({"choices":[]})";
  r.max_tokens = std::numeric_limits<uint64_t>::max() / 2;  // beyond 2^53: must stay exact (a string)
  r.upstream_attempts.clear();
  Decoded d(export_request({r}));
  element server = spans_of(d).at(0);
  element missing;
  EXPECT_EQ(server["parentSpanId"].get(missing), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(integer(server["flags"]), 0);
  EXPECT_EQ(integer(server["status"]["code"]), 2);
  EXPECT_EQ(str(server["status"]["message"]), "upstream_unavailable");
  element a = server["attributes"];
  EXPECT_EQ(str(attribute_value(a, "error.type")["stringValue"]), "502");
  EXPECT_EQ(str(attribute_value(a, "tollway.decision.rule")["stringValue"]), "acme-tpm");
  EXPECT_EQ(str(attribute_value(a, "tollway.policy.version")["stringValue"]), "abc123");
  EXPECT_EQ(str(attribute_value(a, "gen_ai.input.messages")["stringValue"]), r.input_content);
  EXPECT_EQ(str(attribute_value(a, "gen_ai.output.messages")["stringValue"]), r.output_content);
  EXPECT_EQ(str(attribute_value(a, "gen_ai.request.max_tokens")["intValue"]), "9223372036854775807");
}

// error.type on the SERVER span is the metrics' bounded class; a 200 whose stream did not end well is an
// error.
TEST(SpanJson, ServerSpanErrorTypeFollowsTheRecord) {
  RequestRecord cut = retried_call();
  cut.error_type = "response_cut";
  RequestRecord refused = retried_call();
  refused.status = 429;
  refused.error_type = "429";
  Decoded d(export_request({cut, refused}));
  element first = spans_of(d).at(0);
  EXPECT_EQ(str(attribute_value(first["attributes"], "error.type")["stringValue"]), "response_cut");
  EXPECT_EQ(integer(first["status"]["code"]), 2);
  EXPECT_EQ(str(first["status"]["message"]), "response_cut");
  element second = spans_of(d).at(3);
  EXPECT_EQ(str(attribute_value(second["attributes"], "error.type")["stringValue"]), "429");
  EXPECT_EQ(integer(second["status"]["code"]), 0)
      << "a 4xx is the caller's error: the SERVER span stays Unset";
}

TEST(SpanJson, ASidecarHopIsOneSpanWithBothIdentities) {
  RequestRecord hop;
  hop.trace_id = *TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  hop.span_id = *SpanId::from_hex("2222222222222222");
  hop.parent_span_id = *SpanId::from_hex("00f067aa0ba902b7");
  hop.method = "GET";
  hop.route = "/tasks";
  hop.status = 200;
  hop.client_span = true;
  hop.source_spiffe_id = "spiffe://example.org/a";
  hop.destination_spiffe_id = "spiffe://example.org/b";
  hop.peer_name = "agent-b";
  hop.hops = 2;
  hop.trace_orphan = true;
  hop.trace_repaired = true;
  Decoded d(export_request({hop}));
  ASSERT_EQ(spans_of(d).get_array().size(), 1u);
  element span = spans_of(d).at(0);
  EXPECT_EQ(integer(span["kind"]), 3);
  element a = span["attributes"];
  EXPECT_EQ(str(attribute_value(a, "tollway.source.spiffe_id")["stringValue"]), "spiffe://example.org/a");
  EXPECT_EQ(str(attribute_value(a, "tollway.destination.spiffe_id")["stringValue"]), "spiffe://example.org/b");
  EXPECT_EQ(str(attribute_value(a, "tollway.peer")["stringValue"]), "agent-b");
  EXPECT_EQ(str(attribute_value(a, "tollway.hops")["intValue"]), "2");
  EXPECT_TRUE(attribute_value(a, "tollway.trace.orphan")["boolValue"].get_bool().value());
  EXPECT_TRUE(attribute_value(a, "tollway.trace.repaired")["boolValue"].get_bool().value());
  Decoded gateway(export_request({retried_call()}));
  EXPECT_FALSE(has_attribute(spans_of(gateway).at(0)["attributes"], "tollway.source.spiffe_id"));
  EXPECT_FALSE(has_attribute(spans_of(gateway).at(0)["attributes"], "tollway.trace.repaired"));
  EXPECT_FALSE(has_attribute(spans_of(gateway).at(0)["attributes"], "tollway.trace.orphan"));
}

TEST(SpanJson, AnyRecordStringsStayValidJson) {
  RequestRecord r = retried_call();
  const std::string hostile("\x01\x7f\xff\"\\\n\0end", 10);
  r.method = hostile;
  r.route = hostile;
  r.tenant = hostile;
  r.request_id = hostile;
  r.upstream_attempts[0].model = hostile;
  r.upstream_attempts[1].failure = hostile;
  Decoded d(export_request({r, retried_call()}));
  element spans = spans_of(d);
  ASSERT_EQ(spans.get_array().size(), 6u);
  const std::string expected("\x01\x7f\xEF\xBF\xBD\"\\\n\0end", 12);  // invalid UTF-8 becomes U+FFFD
  EXPECT_EQ(str(spans.at(0)["name"]), expected + " " + expected);
  EXPECT_EQ(str(attribute_value(spans.at(0)["attributes"], "tollway.tenant")["stringValue"]), expected);
  EXPECT_EQ(str(spans.at(1)["name"]), "chat " + expected);
  EXPECT_EQ(str(spans.at(2)["status"]["message"]), expected);
}

}  // namespace
}  // namespace tollway::telemetry
