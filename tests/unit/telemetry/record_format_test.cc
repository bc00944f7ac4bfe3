#include "telemetry/record_format.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sample_record.h"

namespace tollway::telemetry {
namespace {

using samples::retried_call;

TEST(AccessLog, OneJsonLineWithTheLatencySplit) {
  TextBuffer buffer;
  append_access_log_line(buffer, retried_call());
  const std::string line(buffer.view());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  for (const char* field :
       {"\"type\":\"access\"", "\"request_id\":\"req-1\"", "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"",
        "\"tenant\":\"acme\"", "\"agent\":\"planner\"", "\"session\":\"s-9\"", "\"model\":\"gpt-4o\"",
        "\"status\":200", "\"attempts\":2", "\"input_tokens\":12", "\"output_tokens\":5", "\"usage\":\"reported\"",
        "\"cost_micro_usd\":1234", "\"latency_ms\":{\"total\":250,\"tollway\":1,\"upstream_ttfb\":100,\"stream\":50}",
        "\"trace_context\":\"valid\"", "\"ts\":\"2023-11-14T22:13:20.250Z\""})
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  EXPECT_EQ(line.find("\"decision\""), std::string::npos);
  EXPECT_EQ(line.find("\"peer_"), std::string::npos) << "no client certificate, no peer fields";
}

TEST(AccessLog, NamesTheVerifiedClientCertificate) {
  RequestRecord r = retried_call();
  r.peer_spiffe_id = "spiffe://example.org/ns/default/sa/agent-a";
  r.peer_subject = "CN=agent-a,O=Example \"Inc\"";
  TextBuffer buffer;
  append_access_log_line(buffer, r);
  const std::string line(buffer.view());
  EXPECT_NE(line.find("\"peer_spiffe_id\":\"spiffe://example.org/ns/default/sa/agent-a\""), std::string::npos)
      << line;
  EXPECT_NE(line.find("\"peer_subject\":\"CN=agent-a,O=Example \\\"Inc\\\"\""), std::string::npos) << line;
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
  TextBuffer buffer;
  append_decision_log_line(buffer, r);
  const std::string line(buffer.view());
  for (const char* field :
       {"\"type\":\"decision\"", "\"status\":429",
        "\"decision\":{\"filter\":\"limits\",\"rule\":\"acme-tpm\",\"reason\":\"tokens per minute exceeded\"}",
        "\"shadow_rules\":[\"acme-rpm\"]", "\"policy_version\":\"abcdef012345\"", "\"policy_generation\":7"})
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
}

TEST(AccessLog, AppendsToWhatTheBufferHolds) {
  TextBuffer buffer;
  buffer.literal("{\"earlier\":1}\n");
  RequestRecord r = retried_call();
  r.tenant = "quote\" and \\ and \n";
  append_access_log_line(buffer, r);
  buffer.push_back('\n');
  append_access_log_line(buffer, retried_call());
  const std::string lines(buffer.view());
  ASSERT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
  EXPECT_TRUE(lines.starts_with("{\"earlier\":1}\n{\"ts\":")) << lines;
  EXPECT_NE(lines.find("\"tenant\":\"quote\\\" and \\\\ and \\n\""), std::string::npos) << lines;
  EXPECT_TRUE(lines.ends_with("\"trace_context\":\"valid\"}")) << lines;
}

}  // namespace
}  // namespace tollway::telemetry
