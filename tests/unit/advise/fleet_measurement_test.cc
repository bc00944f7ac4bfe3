// A fleet's measurement from the control plane's answers: calls by class, tokens, calls per trace, the latency tax
// per path kind, orphaned traces, leased budgets, nodes; and gaps where an answer is missing.
#include "advise/fleet_measurement.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace tollway::advise {
namespace {

struct SpanSpec {
  SpanSpec(std::string id, std::string parent, std::string kind, std::string peer = "", bool tollway = true,
           int hops = 0, double self_us = 0, int tokens = -1, bool orphan = false, bool repaired = false,
           std::string protocol = "")
      : id(std::move(id)), parent(std::move(parent)), kind(std::move(kind)), peer(std::move(peer)), tollway(tollway),
        hops(hops), self_us(self_us), tokens(tokens), orphan(orphan), repaired(repaired), protocol(std::move(protocol)) {}
  std::string id, parent, kind, peer;
  bool tollway;
  int hops;
  double self_us;
  int tokens;  // input tokens; output is the same; -1: no usage
  bool orphan, repaired;
  std::string protocol;
};

std::string trace_json(const std::vector<SpanSpec>& spans) {
  std::string list = "[";
  for (const auto& s : spans) {
    json::ObjectWriter w;
    w.field("span_id", s.id);
    if (s.parent.empty()) w.null_field("parent_span_id");
    else w.field("parent_span_id", s.parent);
    w.field("kind", s.kind).field("self_us", s.self_us).field("tollway_hops", s.hops).field("peer", s.peer)
        .field("orphan", s.orphan).field("repaired", s.repaired).field("tollway", s.tollway);
    if (s.tokens >= 0) w.field("input_tokens", s.tokens).field("output_tokens", s.tokens);
    else w.null_field("input_tokens").null_field("output_tokens");
    if (s.protocol.empty()) w.null_field("protocol");
    else w.field("protocol", s.protocol);
    list += (list.size() > 1 ? "," : "") + std::move(w).finish();
  }
  return "{\"spans\":" + list + "]}";
}

// The demo's task: orchestrator -> retrieval (east-west) -> LLM, and the orchestrator's own LLM call.
std::string task_trace() {
  return trace_json({
      {"a0", "", "SERVER", "", false},                                   // the orchestrator agent's own span
      {"o1", "a0", "CLIENT", "retrieval", true, 1, 800},                // orchestrator sidecar -> retrieval
      {"r1", "o1", "SERVER", "orchestrator", true, 1, 5000},            // retrieval sidecar inbound
      {"r2", "r1", "CLIENT", "gateway", true, 2, 600},                  // retrieval sidecar -> gateway
      {"g1", "r2", "SERVER", "", true, 0, 400, 15},                     // gateway: 30 tokens
      {"g1a", "g1", "CLIENT", "", true, 0, 9000},                       // the gateway's provider attempt
      {"o2", "a0", "CLIENT", "gateway", true, 1, 700},                  // orchestrator sidecar -> gateway
      {"g2", "o2", "SERVER", "", true, 0, 300, 25},                     // gateway: 50 tokens
  });
}

// A call whose agent dropped the trace context, not repaired: a trace of its own.
std::string orphan_trace() {
  return trace_json({
      {"t1", "", "CLIENT", "gateway", true, 1, 500, -1, true},
      {"g3", "t1", "SERVER", "", true, 0, 350, 10},
  });
}

ApiAnswers answers(std::vector<std::string> traces) {
  ApiAnswers a;
  a.trace_list = R"({"max_spans":100000,"spans_held":10,"traces_held":2,"traces":[{"trace_id":"x"},{"trace_id":"y"}]})";
  a.traces = std::move(traces);
  a.budgets = R"({"budgets":[{"key":"budget|mesh","limit":1000,"spent":1200,"leased":0,)"
              R"("leases":[{"node":"a","valid":true},{"node":"b","valid":false}]}]})";
  a.fleet = R"({"nodes":[{"id":"gw","role":"gateway","state":"SYNCED","drifted":false,"cpu_seconds":1.5,)"
            R"("cpu_cores":0.25,"rss_bytes":1048576},{"id":"a","role":"sidecar","state":"ERROR","drifted":true,)"
            R"("rejected_version":"abc","error":"bad limit","cpu_seconds":null,"cpu_cores":null,"rss_bytes":null}]})";
  a.history = R"({"versions":[{"published_at":"2026-05-17T10:00:00Z"},{"published_at":"2026-05-16T10:00:00Z"}]})";
  return a;
}

TEST(FleetMeasurement, CallsTokensAndHopsOfTheDemoShape) {
  const FleetMeasurement m = measure_fleet(answers({task_trace(), orphan_trace()}));
  ASSERT_TRUE(m.traces);
  const TraceFacts& t = *m.traces;
  EXPECT_EQ(t.traces_listed, 2u);
  EXPECT_EQ(t.traces_read, 2u);
  EXPECT_EQ(t.calls.at(CallClass::NorthSouth), 3u);
  EXPECT_EQ(t.calls.at(CallClass::EastWest), 1u);
  EXPECT_DOUBLE_EQ(*m.east_west_share(), 0.25);
  EXPECT_EQ(t.tokens_north_south, 30u + 50u + 20u);
  EXPECT_EQ(t.tokens_behind_east_west, 30u);  // retrieval's call, below an inbound hop
  EXPECT_EQ(t.calls_with_usage, 3u);
  EXPECT_EQ((std::map<uint64_t, uint64_t>{{1, 1}, {3, 1}}), t.traces_by_calls);
  EXPECT_EQ(t.calls_per_trace.max, 3);
  EXPECT_EQ(t.depth_per_trace.max, 2);  // orchestrator -> retrieval -> gateway
  EXPECT_EQ(t.depth_per_trace.p50, 1);  // the orphan's one call
  EXPECT_EQ(t.orphan_traces, 1u);
  EXPECT_EQ(t.orphan_spans, 1u);
  EXPECT_EQ(t.repaired_spans, 0u);
}

TEST(FleetMeasurement, HopsPerTraceIsTheLongestChainNotTheNumberOfCalls) {
  // A fan-out: one agent calls four peers side by side, one call deep each.
  const std::string fan_out = trace_json({
      {"a0", "", "SERVER", "", false},
      {"c1", "a0", "CLIENT", "b", true, 1, 100},
      {"c2", "a0", "CLIENT", "c", true, 1, 100},
      {"c3", "a0", "CLIENT", "d", true, 1, 100},
      {"c4", "a0", "CLIENT", "gateway", true, 1, 100},
  });
  // A chain: A -> B -> C -> gateway, each hop's inbound span below the caller's outbound one.
  const std::string chain = trace_json({
      {"x1", "", "CLIENT", "b", true, 1, 100},
      {"y1", "x1", "SERVER", "a", true, 1, 900},
      {"y2", "y1", "CLIENT", "c", true, 2, 100},
      {"z1", "y2", "SERVER", "b", true, 2, 700},
      {"z2", "z1", "CLIENT", "gateway", true, 3, 100},
      {"g", "z2", "SERVER", "", true, 0, 50, 5},
  });
  const TraceFacts t = *measure_fleet(answers({fan_out, chain})).traces;
  EXPECT_EQ(t.calls_per_trace.max, 4);
  EXPECT_EQ(t.depth_per_trace.count, 2u);
  EXPECT_EQ(t.depth_per_trace.p50, 1);  // the fan-out
  EXPECT_EQ(t.depth_per_trace.max, 3);  // the chain
}

TEST(FleetMeasurement, LatencyTaxPerPathKind) {
  const TraceFacts t = *measure_fleet(answers({task_trace()})).traces;
  EXPECT_EQ(t.tax_us.at(PathKind::Gateway).count, 2u);  // the gateway's own time, not its provider attempt
  EXPECT_DOUBLE_EQ(t.tax_us.at(PathKind::Gateway).max, 400);
  EXPECT_EQ(t.tax_us.at(PathKind::SidecarToGateway).count, 2u);
  EXPECT_DOUBLE_EQ(t.tax_us.at(PathKind::SidecarToGateway).p50, 600);
  EXPECT_EQ(t.tax_us.at(PathKind::SidecarToSidecar).count, 1u);
  EXPECT_DOUBLE_EQ(t.tax_us.at(PathKind::SidecarToSidecar).p50, 800);
  // The inbound span's own time holds the agent's work: not counted as tax.
  EXPECT_DOUBLE_EQ(t.tax_per_trace_us.max, 800 + 600 + 400 + 700 + 300);
}

TEST(FleetMeasurement, SidecarCallWithoutTheCalleesSpanIsCountedNotTaxed) {
  // A call refused at the caller's sidecar never reaches the gateway: a north-south call with no gateway span.
  const TraceFacts t = *measure_fleet(answers({trace_json({{"s", "", "CLIENT", "gateway", true, 1, 90000}})})).traces;
  EXPECT_EQ(t.calls.at(CallClass::NorthSouth), 1u);
  EXPECT_EQ(t.tax_us.at(PathKind::SidecarToGateway).count, 0u);
}

TEST(FleetMeasurement, ToolCallsEgressAndCallersWithoutSpans) {
  const TraceFacts t = *measure_fleet(answers({trace_json({
                                          {"m1", "", "CLIENT", "search-tools", true, 1, 100},
                                          {"m2", "m1", "CLIENT", "", true, 0, 90, -1, false, false, "mcp"},
                                          {"e1", "", "CLIENT", "api.example.com:443", true, 1, 50},
                                          {"i1", "zz", "SERVER", "", true, 1, 40},  // its caller exports nothing
                                      })}))
                            .traces;
  EXPECT_EQ(t.calls.at(CallClass::Tool), 1u);
  EXPECT_EQ(t.calls.at(CallClass::Egress), 1u);
  EXPECT_EQ(t.calls.at(CallClass::EastWest), 1u);
}

TEST(FleetMeasurement, BudgetsNodesAndHistory) {
  const FleetMeasurement m = measure_fleet(answers({}));
  ASSERT_TRUE(m.budgets);
  ASSERT_EQ(m.budgets->size(), 1u);
  EXPECT_EQ((*m.budgets)[0].overspend, 200);
  EXPECT_EQ((*m.budgets)[0].holders, 1u);
  ASSERT_TRUE(m.fleet);
  ASSERT_EQ(m.fleet->nodes.size(), 2u);
  EXPECT_DOUBLE_EQ(*m.fleet->nodes[0].cpu_cores, 0.25);
  EXPECT_EQ(*m.fleet->nodes[0].rss_bytes, 1048576u);
  EXPECT_FALSE(m.fleet->nodes[1].rss_bytes);
  EXPECT_EQ(m.fleet->nodes[1].nack_reason, "bad limit");
  EXPECT_TRUE(m.fleet->nodes[1].drifted);
  EXPECT_EQ(m.fleet->policy_versions, 2u);
  EXPECT_EQ(*m.fleet->latest_publish, "2026-05-17T10:00:00Z");
}

TEST(FleetMeasurement, MissingAnswersAreGapsNotZeros) {
  ApiAnswers a;
  a.gaps = {"/v1/fleet: connection refused"};
  const FleetMeasurement m = measure_fleet(a);
  EXPECT_FALSE(m.traces);
  EXPECT_FALSE(m.budgets);
  EXPECT_FALSE(m.fleet);
  EXPECT_FALSE(m.east_west_share());
  EXPECT_EQ(m.gaps.size(), 4u);
}

TEST(FleetMeasurement, SpreadIsNearestRank) {
  const Spread s = spread_of({5, 1, 4, 2, 3});
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.p50, 3);
  EXPECT_EQ(s.p95, 5);
  EXPECT_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_EQ(spread_of({}).count, 0u);
}

}  // namespace
}  // namespace tollway::advise
