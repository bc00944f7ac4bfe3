#include "advise/advice_report.h"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include "core/json.h"

namespace tollway::advise {
namespace {

constexpr std::size_t kWidth = 120;

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string percent_of(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + "%";
}

std::string mib(uint64_t bytes) { return fixed(static_cast<double>(bytes) / (1024.0 * 1024.0), 1) + " MiB"; }

// A line within the screen's width (code points): a longer one goes on, indented, on the next lines, broken at a
// space (a word longer than the width is cut).
void line(std::ostringstream& out, const std::string& text) {
  const std::string indent(text.rfind("  ", 0) == 0 ? 15 : 2, ' ');
  std::string rest = text;
  while (true) {
    std::size_t shown = 0, end = 0, space = std::string::npos;
    for (; end < rest.size(); ++end) {
      if ((static_cast<unsigned char>(rest[end]) & 0xC0) == 0x80) continue;
      if (shown == kWidth) break;
      if (rest[end] == ' ' && end > indent.size()) space = end;
      ++shown;
    }
    if (end == rest.size()) break;
    const std::size_t cut = space != std::string::npos ? space : end;
    out << rest.substr(0, cut) << "\n";
    rest = indent + rest.substr(cut + (cut == space ? 1 : 0));
  }
  out << rest << "\n";
}

std::string pad(std::string text, std::size_t width) {
  std::size_t shown = 0;  // code points, for the arrows
  for (unsigned char c : text) shown += (c & 0xC0) != 0x80;
  if (shown < width) text.append(width - shown, ' ');
  return text;
}

uint64_t count_of(const TraceFacts& t, CallClass c) { return t.calls.count(c) ? t.calls.at(c) : 0; }
Spread tax_of(const TraceFacts& t, PathKind k) { return t.tax_us.count(k) ? t.tax_us.at(k) : Spread{}; }
uint64_t all_calls(const TraceFacts& t) {
  uint64_t n = 0;
  for (const auto& [c, k] : t.calls) n += k;
  return n;
}

std::string_view class_label(TrafficClass c) {
  switch (c) {
    case TrafficClass::NorthSouth: return "north-south LLM calls";
    case TrafficClass::EastWest: return "east-west agent↔agent";
    case TrafficClass::Tool: break;
  }
  return "tool / MCP calls";
}

struct Resources {
  uint64_t nodes = 0, with_cpu = 0, with_rss = 0;
  double cores = 0;
  uint64_t rss = 0;
};
Resources resources_of(const FleetFacts& f, std::string_view role) {
  Resources r;
  for (const auto& n : f.nodes) {
    if (n.role != role) continue;
    ++r.nodes;
    if (n.cpu_cores) ++r.with_cpu, r.cores += *n.cpu_cores;
    if (n.rss_bytes) ++r.with_rss, r.rss += *n.rss_bytes;
  }
  return r;
}

std::string resources_text(const Resources& r, std::string_view role) {
  if (r.nodes == 0) return "no " + std::string(role);
  std::string s = std::to_string(r.nodes) + " " + std::string(role) + (r.nodes == 1 ? "" : "s") + " ";
  if (r.with_cpu == 0 && r.with_rss == 0) return s + "not reported";
  return s + fixed(r.cores, 3) + " cores, " + mib(r.rss) + " RSS";
}

void measured_text(std::ostringstream& out, const Advice& a) {
  const FleetMeasurement& m = *a.measured;
  line(out, "");
  line(out, "measured" + (a.source.empty() ? std::string() : " at " + a.source));
  if (m.traces) {
    const TraceFacts& t = *m.traces;
    const uint64_t all = all_calls(t);
    line(out, "  calls        " + std::to_string(all) + " in " + std::to_string(t.traces_with_calls) +
                  " traces: north-south " + std::to_string(count_of(t, CallClass::NorthSouth)) + " (" +
                  percent_of(count_of(t, CallClass::NorthSouth), all) + "), east-west " +
                  std::to_string(count_of(t, CallClass::EastWest)) + " (" +
                  percent_of(count_of(t, CallClass::EastWest), all) + "), tool/MCP " +
                  std::to_string(count_of(t, CallClass::Tool)) + ", egress " +
                  std::to_string(count_of(t, CallClass::Egress)));
    line(out, "  tokens       " + std::to_string(t.tokens_north_south) + " on north-south calls, of which " +
                  std::to_string(t.tokens_behind_east_west) + " (" +
                  percent_of(t.tokens_behind_east_west, t.tokens_north_south) +
                  ") by agents reached east-west; " + std::to_string(t.tokens_east_west) + " on east-west calls");
    std::string by_calls;
    for (const auto& [calls, traces] : t.traces_by_calls)
      by_calls += (by_calls.empty() ? "" : ", ") + std::to_string(traces) + "×" + std::to_string(calls);
    line(out, "  calls/trace  p50 " + fixed(t.calls_per_trace.p50, 0) + ", p95 " + fixed(t.calls_per_trace.p95, 0) +
                  ", max " + fixed(t.calls_per_trace.max, 0) + "  (traces×calls: " + by_calls + ")");
    line(out, "  hops/trace   p50 " + fixed(t.depth_per_trace.p50, 0) + ", p95 " + fixed(t.depth_per_trace.p95, 0) +
                  ", max " + fixed(t.depth_per_trace.max, 0) + "  (the longest chain of calls in each trace)");
    std::string tax;
    for (const PathKind k : kPathKinds) {
      const Spread s = tax_of(t, k);
      const std::string label = k == PathKind::Gateway            ? "gateway"
                                : k == PathKind::SidecarToGateway ? "sidecar→gateway"
                                                                  : "sidecar→sidecar";
      tax += (tax.empty() ? "" : "; ") + label + " " +
             (s.count == 0 ? std::string("-") : fixed(s.p50 / 1000, 2) + "/" + fixed(s.p95 / 1000, 2));
    }
    line(out, "  tax/hop ms   p50/p95 " + tax);
    line(out, "  tax/trace    p50 " + fixed(t.tax_per_trace_us.p50 / 1000, 2) + " ms, p95 " +
                  fixed(t.tax_per_trace_us.p95 / 1000, 2) + " ms of tollway's own time along a trace");
    line(out, "  orphans      " + std::to_string(t.orphan_traces) + " of " + std::to_string(t.traces_with_calls) +
                  " traces (" + percent_of(t.orphan_traces, t.traces_with_calls) +
                  ") started by a call without trace context; " + std::to_string(t.repaired_spans) + " of " +
                  std::to_string(t.orphan_spans) + " orphan calls repaired");
  }
  if (m.budgets) {
    std::string b;
    for (const auto& l : *m.budgets)
      b += (b.empty() ? "" : "; ") + l.key.substr(0, 40) + " " + std::to_string(l.spent) + "/" +
           std::to_string(l.limit) + " over " + std::to_string(l.overspend);
    line(out, "  leased       " + (b.empty() ? std::string("no leased budget") : b));
  }
  if (m.fleet) {
    const FleetFacts& f = *m.fleet;
    uint64_t drifted = 0, nacking = 0;
    for (const auto& n : f.nodes) drifted += n.drifted, nacking += !n.rejected_version.empty();
    line(out, "  fleet        " + std::to_string(f.nodes.size()) + " nodes, " + std::to_string(drifted) +
                  " drifted, " + std::to_string(nacking) + " NACKing now; " + std::to_string(f.policy_versions) +
                  " policy versions" + (f.latest_publish ? ", latest " + *f.latest_publish : ""));
    if (f.nacks)
      line(out, "  NACKs        " + std::to_string(f.nacks->total) + " on record from " + std::to_string(f.nacks->nodes) +
                    " node(s)" +
                    (f.nacks->total == 0 ? std::string()
                                         : "; latest " + f.nacks->latest_at + " " + f.nacks->latest_node + " refused " +
                                               f.nacks->latest_version + ": " + f.nacks->latest_reason));
    const Resources sidecars = resources_of(f, "sidecar"), gateways = resources_of(f, "gateway");
    std::string workload = "agents not measured (not tollway's processes";
    if (const auto share = sidecar_cpu_share(m, a.questionnaire))
      workload = "agents " + fixed(*a.questionnaire.workload_cpu_cores, 2) + " cores (as told): sidecars " +
                 fixed(*share * 100, 1) + "% of CPU";
    else
      workload += "; say --workload-cpu-cores)";
    line(out, "  resources    " + resources_text(sidecars, "sidecar") + "; " + resources_text(gateways, "gateway") +
                  "; " + workload);
  }
  for (const auto& gap : m.gaps) line(out, "  not measured " + gap);
}

std::string spread_json(const Spread& s) {
  json::ObjectWriter w;
  w.field("count", s.count).field("p50", s.p50).field("p95", s.p95).field("max", s.max).field("mean", s.mean);
  return std::move(w).finish();
}

std::string strings_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) out += (out.size() > 1 ? "," : "") + json::quoted(s);
  return out + "]";
}

std::string questionnaire_json(const Questionnaire& q) {
  json::ObjectWriter w;
  const auto word = [&](std::string_view key, auto value) {
    if (value) w.field(key, name_of(*value));
    else w.null_field(key);
  };
  word("traffic", q.traffic);
  if (q.team_size) w.field("team_size", *q.team_size);
  else w.null_field("team_size");
  word("sre", q.sre);
  word("compliance", q.compliance);
  word("limits", q.limits);
  word("observability", q.observability);
  json::ObjectWriter priorities;
  for (const Factor f : kFactors) priorities.field(name_of(f), name_of(q.priority(f)));
  w.raw_field("priorities", std::move(priorities).finish());
  json::ObjectWriter workload;
  if (q.workload_cpu_cores) workload.field("cpu_cores", *q.workload_cpu_cores);
  else workload.null_field("cpu_cores");
  if (q.workload_memory_mib) workload.field("memory_mib", *q.workload_memory_mib);
  else workload.null_field("memory_mib");
  w.raw_field("workload", std::move(workload).finish());
  return std::move(w).finish();
}

std::string traces_json(const TraceFacts& t) {
  json::ObjectWriter calls;
  uint64_t all = 0;
  for (const CallClass c : kCallClasses) {
    calls.field(name_of(c), count_of(t, c));
    all += count_of(t, c);
  }
  calls.field("total", all);
  json::ObjectWriter tokens;
  tokens.field("north_south", t.tokens_north_south).field("behind_east_west", t.tokens_behind_east_west)
      .field("east_west", t.tokens_east_west).field("north_south_calls_with_usage", t.calls_with_usage);
  json::ObjectWriter by_calls;
  for (const auto& [calls_in_trace, traces] : t.traces_by_calls) by_calls.field(std::to_string(calls_in_trace), traces);
  json::ObjectWriter tax;
  for (const PathKind k : kPathKinds) tax.raw_field(name_of(k), spread_json(tax_of(t, k)));
  tax.raw_field("per_trace", spread_json(t.tax_per_trace_us));
  json::ObjectWriter w;
  w.raw_field("calls", std::move(calls).finish())
      .raw_field("tokens", std::move(tokens).finish())
      .field("traces_listed", t.traces_listed)
      .field("traces_read", t.traces_read)
      .field("traces_with_calls", t.traces_with_calls)
      .field("window_max_spans", t.window_max_spans)
      .field("window_spans_held", t.window_spans_held)
      .raw_field("calls_per_trace", spread_json(t.calls_per_trace))
      .raw_field("traces_by_calls", std::move(by_calls).finish())
      .raw_field("hops_per_trace", spread_json(t.depth_per_trace))
      .raw_field("latency_tax_us", std::move(tax).finish())
      .field("orphan_traces", t.orphan_traces)
      .field("orphan_spans", t.orphan_spans)
      .field("repaired_spans", t.repaired_spans);
  return std::move(w).finish();
}

std::string fleet_json(const FleetFacts& f, const FleetMeasurement& m, const Questionnaire& q) {
  std::string nodes = "[";
  for (const auto& n : f.nodes) {
    json::ObjectWriter w;
    w.field("id", n.id).field("role", n.role).field("state", n.state).field("drifted", n.drifted);
    if (n.rejected_version.empty()) w.null_field("rejected_version").null_field("nack_reason");
    else w.field("rejected_version", n.rejected_version).field("nack_reason", n.nack_reason);
    if (n.cpu_seconds) w.field("cpu_seconds", *n.cpu_seconds);
    else w.null_field("cpu_seconds");
    if (n.cpu_cores) w.field("cpu_cores", *n.cpu_cores);
    else w.null_field("cpu_cores");
    if (n.rss_bytes) w.field("rss_bytes", *n.rss_bytes);
    else w.null_field("rss_bytes");
    nodes += (nodes.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter resources;
  for (const char* role : {"sidecar", "gateway"}) {
    const Resources r = resources_of(f, role);
    json::ObjectWriter w;
    w.field("nodes", r.nodes).field("reporting_cpu", r.with_cpu).field("cpu_cores", r.cores)
        .field("reporting_rss", r.with_rss).field("rss_bytes", r.rss);
    resources.raw_field(std::string(role) + "s", std::move(w).finish());
  }
  json::ObjectWriter workload;
  workload.field("measured", false)
      .field("why", "the agents' processes are not tollway's; only what the questionnaire says");
  if (const auto share = sidecar_cpu_share(m, q)) workload.field("sidecar_cpu_share", *share);
  else workload.null_field("sidecar_cpu_share");
  resources.raw_field("workload", std::move(workload).finish());
  json::ObjectWriter w;
  w.raw_field("nodes", nodes + "]").field("policy_versions", f.policy_versions);
  if (f.latest_publish) w.field("latest_publish", *f.latest_publish);
  else w.null_field("latest_publish");
  if (f.nacks) {
    json::ObjectWriter nacks;
    nacks.field("total", f.nacks->total).field("nodes", f.nacks->nodes);
    if (f.nacks->total == 0) {
      nacks.null_field("latest");
    } else {
      json::ObjectWriter latest;
      latest.field("at", f.nacks->latest_at).field("node", f.nacks->latest_node)
          .field("version", f.nacks->latest_version).field("reason", f.nacks->latest_reason);
      nacks.raw_field("latest", std::move(latest).finish());
    }
    w.raw_field("nack_history", std::move(nacks).finish());
  } else {
    w.null_field("nack_history");
  }
  w.raw_field("resources", std::move(resources).finish());
  return std::move(w).finish();
}

std::string measured_json(const Advice& a) {
  const FleetMeasurement& m = *a.measured;
  json::ObjectWriter w;
  w.field("source", a.source);
  if (const auto share = m.east_west_share()) w.field("east_west_share", *share);
  else w.null_field("east_west_share");
  if (m.traces) w.raw_field("traces", traces_json(*m.traces));
  else w.null_field("traces");
  if (m.budgets) {
    std::string list = "[";
    for (const auto& b : *m.budgets) {
      json::ObjectWriter bw;
      bw.field("key", b.key).field("limit", b.limit).field("spent", b.spent).field("leased", b.leased)
          .field("overspend", b.overspend).field("holders", b.holders);
      list += (list.size() > 1 ? "," : "") + std::move(bw).finish();
    }
    w.raw_field("leased_budgets", list + "]");
  } else {
    w.null_field("leased_budgets");
  }
  if (m.fleet) w.raw_field("fleet", fleet_json(*m.fleet, m, a.questionnaire));
  else w.null_field("fleet");
  w.raw_field("gaps", strings_json(m.gaps));
  return std::move(w).finish();
}

}  // namespace

std::string advice_text(const Advice& a) {
  std::ostringstream out;
  line(out, "tollway advise: gateway, sidecar or both — the seed's five factors (docs/decision.md)");
  line(out, "");
  line(out, pad("factor", 14) + pad("priority", 9) + pad("answer", 34) + pad("leans", 11) + "rule");
  for (const auto& f : a.factors) {
    std::string answer = f.answer.empty() ? "-" : f.answer + (f.measured ? " (measured)" : "");
    if (answer.size() > 33) answer = answer.substr(0, 32) + "~";
    line(out, pad(std::string(name_of(f.factor)), 14) + pad(std::string(name_of(f.priority)), 9) + pad(answer, 34) +
                  pad(std::string(name_of(f.lean)), 11) + std::string(f.rule));
  }
  line(out, "tally: gateway " + std::to_string(a.gateway_points) + ", sidecar " + std::to_string(a.sidecar_points) +
                " (high 3, medium 2, low 1 per factor)");
  line(out, "");
  line(out, pad("traffic class", 24) + pad("advice", 9) + "why");
  for (const auto& c : a.classes)
    line(out, pad(std::string(class_label(c.traffic_class)), 24) + pad(std::string(name_of(c.advice)), 9) + c.why);
  line(out, pad("policy", 24) + pad("control", 9) +
                "one control plane for both layers, version-controlled (seed: layer 3)");
  if (a.measured) measured_text(out, a);
  if (!a.disagreements.empty()) {
    line(out, "");
    line(out, "measurement and questionnaire disagree");
    for (const auto& d : a.disagreements) line(out, "  " + d);
  }
  return out.str();
}

std::string advice_json(const Advice& a) {
  std::string factors = "[";
  for (const auto& f : a.factors) {
    json::ObjectWriter w;
    w.field("factor", name_of(f.factor)).field("priority", name_of(f.priority));
    if (f.answer.empty()) w.null_field("answer");
    else w.field("answer", f.answer);
    w.field("measured", f.measured).field("lean", name_of(f.lean)).field("rule", f.rule).field("seed", f.seed);
    factors += (factors.size() > 1 ? "," : "") + std::move(w).finish();
  }
  std::string classes = "[";
  for (const auto& c : a.classes) {
    json::ObjectWriter w;
    w.field("class", name_of(c.traffic_class)).field("advice", name_of(c.advice)).field("why", c.why);
    classes += (classes.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter score;
  score.field("gateway", a.gateway_points).field("sidecar", a.sidecar_points);
  json::ObjectWriter w;
  w.raw_field("questionnaire", questionnaire_json(a.questionnaire))
      .raw_field("factors", factors + "]")
      .raw_field("score", std::move(score).finish())
      .raw_field("recommendations", classes + "]")
      .raw_field("disagreements", strings_json(a.disagreements));
  if (a.measured) w.raw_field("measured", measured_json(a));
  else w.null_field("measured");
  return std::move(w).finish();
}

}  // namespace tollway::advise
