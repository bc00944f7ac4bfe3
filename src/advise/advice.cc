#include "advise/advice.h"

namespace tollway::advise {
namespace {

const FactorScore& factor(const std::vector<FactorScore>& factors, Factor f) {
  for (const auto& s : factors)
    if (s.factor == f) return s;
  return factors.front();
}

// East-west and tool calls: sidecars when the factors lean that way on balance, else through the gateway — the
// seed's default ("Start with a centralized gateway only ... Introduce sidecars when east-west latency or
// observability gaps become measurable problems").
ClassAdvice east_west(const Advice& a, TrafficClass c) {
  ClassAdvice out{c, Lean::Gateway, {}};
  if (a.sidecar_points > a.gateway_points) {
    out.advice = Lean::Sidecar;
    out.why = c == TrafficClass::Tool ? "layer 2: tool calls are agent calls; mTLS, authz, a span per call"
                                      : "layer 2: mTLS, local limits, a span per hop";
  } else if (a.sidecar_points == 0 && a.gateway_points == 0) {
    out.why = "nothing answered: start with a gateway only (the seed's first step)";
  } else {
    out.why = "gateway first; sidecars once east-west latency or tracing gaps are measured";
  }
  return out;
}

ClassAdvice north_south(const Advice& a, Lean east_west_advice) {
  ClassAdvice out{TrafficClass::NorthSouth, Lean::Gateway, {}};
  const FactorScore& limits = factor(a.factors, Factor::Limits);
  const FactorScore& observe = factor(a.factors, Factor::Observability);
  out.why = "layer 1: provider keys, ";
  out.why += limits.lean == Lean::Gateway ? "hard caps in the strict ledger, " : "budgets, ";
  out.why += "billing-grade telemetry";
  if (east_west_advice == Lean::Sidecar && observe.lean == Lean::Sidecar) {
    out.advice = Lean::Both;
    out.why += "; via each agent's sidecar for per-agent spans";
  }
  return out;
}

std::string count_share(uint64_t part, uint64_t whole) {
  return std::to_string(part) + " of " + std::to_string(whole) +
         (whole > 0 ? " (" + percent(static_cast<double>(part) / static_cast<double>(whole)) + ")" : "");
}

void find_disagreements(Advice& a) {
  if (!a.measured) return;
  const FleetMeasurement& m = *a.measured;
  const Questionnaire& q = a.questionnaire;
  // Factor 1: the traffic the team describes against the traffic the traces show.
  if (const auto share = m.east_west_share(); share && q.traffic && traffic_of_share(*share) != *q.traffic)
    a.disagreements.push_back("topology: you said " + std::string(name_of(*q.traffic)) + "; the traces show " +
                              percent(*share) + " of calls east-west (" +
                              std::string(name_of(traffic_of_share(*share))) + ")");
  // Factor 3: hard limits, yet budgets enforced by leases (eventually consistent), or spent past their limit.
  if (m.budgets) {
    int64_t overspend = 0;
    for (const auto& b : *m.budgets) overspend += b.overspend;
    if (q.limits == Limits::Hard && !m.budgets->empty())
      a.disagreements.push_back("limits: you said hard; " + std::to_string(m.budgets->size()) +
                                " budget key(s) are leased (eventually consistent; bound B = R + K + U + S), "
                                "measured overspend " + std::to_string(overspend));
    else if (overspend > 0)
      a.disagreements.push_back("limits: leased budgets overspent by " + std::to_string(overspend) +
                                " in all (docs/operations.md, Leased budgets)");
  }
  // Factor 5: tracing every call needs the trace context to survive every hop.
  if (m.traces && q.observability == Observability::PerCall) {
    const auto& t = *m.traces;
    if (t.orphan_traces > 0)
      a.disagreements.push_back("observability: you need every call traced; " +
                                count_share(t.orphan_traces, t.traces_with_calls) +
                                " traces were started by a call whose agent dropped the trace context");
    const uint64_t east_west_calls = t.calls.count(CallClass::EastWest) ? t.calls.at(CallClass::EastWest) : 0;
    if (east_west_calls == 0 && t.traces_with_calls > 0)
      a.disagreements.push_back("observability: you need every agent-to-agent call traced; no east-west call "
                                "reached the trace window (no sidecar exports spans)");
  }
  if (m.traces && q.observability == Observability::Dashboard && m.traces->depth_per_trace.p95 >= 8)
    a.disagreements.push_back("observability: a dashboard is enough, you said; yet the p95 trace chains " +
                              std::to_string(static_cast<int>(m.traces->depth_per_trace.p95)) +
                              " hops (the seed's 8 to 15): per-hop spans will be needed to debug it");
  // Factor 2: a small team already paying the sidecar model's drift cost.
  if (const FactorScore& team = factor(a.factors, Factor::Team); m.fleet && team.lean == Lean::Gateway) {
    uint64_t sidecars = 0, troubled = 0;
    for (const auto& n : m.fleet->nodes) {
      sidecars += n.role == "sidecar";
      troubled += n.drifted || !n.rejected_version.empty();
    }
    const uint64_t refused = m.fleet->nacks ? m.fleet->nacks->total : 0;
    if (sidecars > 0 && (troubled > 0 || refused > 0))
      a.disagreements.push_back("team: " + team.answer + " runs " + std::to_string(sidecars) + " sidecars, " +
                                std::to_string(troubled) + " node(s) drifted or NACKing now and " +
                                std::to_string(refused) + " NACK(s) on record: the seed's configuration-drift cost");
  }
  // The sidecar tax against the seed's figure, when the workload's own use is known.
  if (const auto share = sidecar_cpu_share(m, q); share && *share > kSidecarTaxHigh)
    a.disagreements.push_back("resources: sidecars use " + percent(*share) +
                              " of the CPU of sidecars + workload, above the seed's 15 to 25 percent");
}

}  // namespace

std::string_view name_of(TrafficClass c) {
  switch (c) {
    case TrafficClass::NorthSouth: return "north_south";
    case TrafficClass::EastWest: return "east_west";
    case TrafficClass::Tool: break;
  }
  return "tool";
}

std::optional<double> sidecar_cpu_share(const FleetMeasurement& m, const Questionnaire& q) {
  if (!m.fleet || !q.workload_cpu_cores) return std::nullopt;
  double sidecar = 0;
  bool any = false;
  for (const auto& n : m.fleet->nodes)
    if (n.role == "sidecar" && n.cpu_cores) {
      sidecar += *n.cpu_cores;
      any = true;
    }
  if (!any) return std::nullopt;
  return sidecar / (sidecar + *q.workload_cpu_cores);
}

Advice advise(const Questionnaire& q, std::optional<FleetMeasurement> measured, std::string source) {
  Advice a;
  a.questionnaire = q;
  a.measured = std::move(measured);
  a.source = std::move(source);
  a.factors = score_factors(q, a.measured ? &*a.measured : nullptr);
  for (const auto& f : a.factors) {
    const int weight = static_cast<int>(f.priority);
    if (f.lean == Lean::Gateway) a.gateway_points += weight;
    if (f.lean == Lean::Sidecar) a.sidecar_points += weight;
  }
  const ClassAdvice ew = east_west(a, TrafficClass::EastWest);
  a.classes = {north_south(a, ew.advice), ew, east_west(a, TrafficClass::Tool)};
  find_disagreements(a);
  return a;
}

}  // namespace tollway::advise
