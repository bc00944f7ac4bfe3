#include "advise/fleet_measurement.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/strict_json.h"

namespace tollway::advise {
namespace {

namespace sj = core::strict_json;

std::optional<sj::Value> parse_answer(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  std::string error;
  auto doc = sj::parse(*text, error, sj::ParseLimits{32 << 20, 32});
  if (!doc || !doc->is_object()) return std::nullopt;
  return doc;
}

int64_t int_of(const sj::Value& v, std::string_view name) {
  const sj::Value* m = v.find(name);
  return m != nullptr && m->is_integer() ? m->as_int() : 0;
}
std::optional<double> number_of(const sj::Value& v, std::string_view name) {
  const sj::Value* m = v.find(name);
  return m != nullptr && m->is_number() ? std::optional<double>(m->as_number()) : std::nullopt;
}
bool flag_of(const sj::Value& v, std::string_view name) {
  const sj::Value* m = v.find(name);
  return m != nullptr && m->is_bool() && m->as_bool();
}
std::string text_of(const sj::Value& v, std::string_view name) {
  return std::string(v.string_member(name).value_or(""));
}

// One span of GET /v1/traces/{id}, as the classification needs it.
struct Span {
  std::string id, parent, peer, protocol;
  bool client = false, server = false, tollway = false, orphan = false, repaired = false;
  uint64_t hops = 0;
  double self_us = 0;
  std::optional<uint64_t> tokens;  // gen_ai.usage input + output
};

enum class Role { Other, SidecarOut, SidecarIn, GatewayIn };

struct Trace {
  std::vector<Span> spans;
  std::unordered_map<std::string, std::size_t> by_id;
  std::vector<std::vector<std::size_t>> children;

  std::optional<std::size_t> parent_of(std::size_t i) const {
    const auto it = by_id.find(spans[i].parent);
    return spans[i].parent.empty() || it == by_id.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  }
  // Tollway's spans: a sidecar hop carries tollway.hops (CLIENT outbound, SERVER inbound); a gateway's call is its
  // SERVER span without hops and without an MCP/A2A operation (those are children of a hop's span).
  Role role(std::size_t i) const {
    const Span& s = spans[i];
    if (!s.tollway) return Role::Other;
    if (s.hops > 0) return s.client ? Role::SidecarOut : s.server ? Role::SidecarIn : Role::Other;
    return s.server && s.protocol.empty() ? Role::GatewayIn : Role::Other;
  }
  std::optional<std::size_t> child_with_role(std::size_t i, Role r) const {
    for (const std::size_t c : children[i])
      if (role(c) == r) return c;
    return std::nullopt;
  }
  bool carries_mcp(std::size_t i) const {
    for (const std::size_t c : children[i])
      if (spans[c].protocol == "mcp" || (role(c) == Role::SidecarIn && carries_mcp(c))) return true;
    return false;
  }
  bool below_inbound_hop(std::size_t i) const {
    std::size_t steps = 0;
    for (auto p = parent_of(i); p && steps < spans.size(); p = parent_of(*p), ++steps)
      if (role(*p) == Role::SidecarIn) return true;
    return false;
  }
};

std::optional<Trace> read_trace(const std::string& text) {
  const auto doc = parse_answer(text);
  const sj::Value* spans = doc ? doc->find("spans") : nullptr;
  if (spans == nullptr || !spans->is_array()) return std::nullopt;
  Trace t;
  for (const auto& v : spans->items()) {
    Span s;
    s.id = text_of(v, "span_id");
    s.parent = text_of(v, "parent_span_id");
    s.peer = text_of(v, "peer");
    s.protocol = text_of(v, "protocol");
    const std::string kind = text_of(v, "kind");
    s.client = kind == "CLIENT";
    s.server = kind == "SERVER";
    s.tollway = flag_of(v, "tollway");
    s.orphan = flag_of(v, "orphan");
    s.repaired = flag_of(v, "repaired");
    s.hops = static_cast<uint64_t>(std::max<int64_t>(0, int_of(v, "tollway_hops")));
    s.self_us = number_of(v, "self_us").value_or(0);
    const sj::Value* in = v.find("input_tokens");
    const sj::Value* out = v.find("output_tokens");
    if (in != nullptr && in->is_integer() && out != nullptr && out->is_integer())
      s.tokens = static_cast<uint64_t>(std::max<int64_t>(0, in->as_int()) + std::max<int64_t>(0, out->as_int()));
    t.by_id.emplace(s.id, t.spans.size());
    t.spans.push_back(std::move(s));
  }
  t.children.resize(t.spans.size());
  for (std::size_t i = 0; i < t.spans.size(); ++i)
    if (const auto p = t.parent_of(i); p && *p != i) t.children[*p].push_back(i);
  return t;
}

struct Samples {
  std::map<PathKind, std::vector<double>> tax;
  std::vector<double> per_trace, calls, depth;
};

// The longest chain of calls in a trace: for each call, itself and the calls above it.
uint64_t deepest_chain(const Trace& t, const std::vector<char>& is_call) {
  uint64_t deepest = 0;
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    if (!is_call[i]) continue;
    uint64_t depth = 1;
    std::size_t steps = 0;
    for (auto p = t.parent_of(i); p && steps < t.spans.size(); p = t.parent_of(*p), ++steps) depth += is_call[*p];
    deepest = std::max(deepest, depth);
  }
  return deepest;
}

// One trace's calls, tokens and tax into `facts`.
void add_trace(const Trace& t, TraceFacts& facts, Samples& samples) {
  uint64_t calls = 0;
  std::vector<char> is_call(t.spans.size(), 0);
  double tax = 0;
  bool orphan_root = false;
  std::size_t at = 0;  // the span the loop below looks at
  const auto call = [&](CallClass c) {
    ++facts.calls[c];
    ++calls;
    is_call[at] = 1;
  };
  const auto add_tax = [&](PathKind k, double us) {
    samples.tax[k].push_back(us);
    tax += us;
  };
  const auto north_south_tokens = [&](std::optional<uint64_t> tokens, std::size_t at) {
    if (!tokens) return;
    ++facts.calls_with_usage;
    facts.tokens_north_south += *tokens;
    if (t.below_inbound_hop(at)) facts.tokens_behind_east_west += *tokens;
  };
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    at = i;
    const Span& s = t.spans[i];
    facts.orphan_spans += s.orphan ? 1 : 0;
    facts.repaired_spans += s.repaired ? 1 : 0;
    if (s.orphan && !s.repaired && s.parent.empty()) orphan_root = true;
    const Role role = t.role(i);
    const auto parent = t.parent_of(i);
    const bool called_by_sidecar = parent && t.role(*parent) == Role::SidecarOut;
    if (role == Role::SidecarOut) {
      if (s.peer == "gateway") {
        call(CallClass::NorthSouth);
        const auto gateway = t.child_with_role(i, Role::GatewayIn);
        north_south_tokens(gateway ? t.spans[*gateway].tokens : s.tokens, i);
        if (gateway) add_tax(PathKind::SidecarToGateway, s.self_us);
      } else if (s.peer.find(':') != std::string::npos) {
        call(CallClass::Egress);  // a CONNECT tunnel names host:port; peers are names without a port
      } else {
        call(t.carries_mcp(i) ? CallClass::Tool : CallClass::EastWest);
        if (s.tokens) facts.tokens_east_west += *s.tokens;
        if (t.child_with_role(i, Role::SidecarIn)) add_tax(PathKind::SidecarToSidecar, s.self_us);
      }
    } else if (role == Role::SidecarIn && !called_by_sidecar) {
      call(t.carries_mcp(i) ? CallClass::Tool : CallClass::EastWest);  // its caller exports no spans
    } else if (role == Role::GatewayIn) {
      add_tax(PathKind::Gateway, s.self_us);
      if (!called_by_sidecar) {
        call(CallClass::NorthSouth);
        north_south_tokens(s.tokens, i);
      }
    }
  }
  if (calls == 0) return;
  ++facts.traces_with_calls;
  ++facts.traces_by_calls[calls];
  facts.orphan_traces += orphan_root ? 1 : 0;
  samples.calls.push_back(static_cast<double>(calls));
  samples.depth.push_back(static_cast<double>(deepest_chain(t, is_call)));
  samples.per_trace.push_back(tax);
}

TraceFacts measure_traces(const sj::Value& list, const std::vector<std::string>& traces) {
  TraceFacts facts;
  const sj::Value* listed = list.find("traces");
  facts.traces_listed = listed != nullptr && listed->is_array() ? listed->items().size() : 0;
  facts.window_max_spans = static_cast<uint64_t>(std::max<int64_t>(0, int_of(list, "max_spans")));
  facts.window_spans_held = static_cast<uint64_t>(std::max<int64_t>(0, int_of(list, "spans_held")));
  Samples samples;
  for (const auto& text : traces) {
    const auto trace = read_trace(text);
    if (!trace) continue;
    ++facts.traces_read;
    add_trace(*trace, facts, samples);
  }
  for (const PathKind k : kPathKinds) facts.tax_us[k] = spread_of(samples.tax[k]);
  facts.tax_per_trace_us = spread_of(samples.per_trace);
  facts.calls_per_trace = spread_of(samples.calls);
  facts.depth_per_trace = spread_of(samples.depth);
  return facts;
}

std::vector<LeasedBudget> measure_budgets(const sj::Value& doc) {
  std::vector<LeasedBudget> out;
  const sj::Value* budgets = doc.find("budgets");
  if (budgets == nullptr || !budgets->is_array()) return out;
  for (const auto& b : budgets->items()) {
    LeasedBudget l{text_of(b, "key"), int_of(b, "limit"), int_of(b, "spent"), int_of(b, "leased"), 0, 0};
    l.overspend = std::max<int64_t>(0, l.spent - l.limit);
    if (const sj::Value* leases = b.find("leases"); leases != nullptr && leases->is_array())
      for (const auto& lease : leases->items()) l.holders += flag_of(lease, "valid") ? 1 : 0;
    out.push_back(std::move(l));
  }
  return out;
}

std::optional<NackHistory> measure_nacks(const std::optional<sj::Value>& doc) {
  const sj::Value* list = doc ? doc->find("nacks") : nullptr;
  if (list == nullptr || !list->is_array()) return std::nullopt;
  NackHistory h;
  h.total = static_cast<uint64_t>(std::max<int64_t>(0, int_of(*doc, "total")));
  h.nodes = static_cast<uint64_t>(std::max<int64_t>(0, int_of(*doc, "nodes")));
  if (!list->items().empty()) {
    const sj::Value& latest = list->items().front();
    h.latest_at = text_of(latest, "at");
    h.latest_node = text_of(latest, "node");
    h.latest_version = text_of(latest, "version");
    h.latest_reason = text_of(latest, "reason");
  }
  return h;
}

FleetFacts measure_nodes(const sj::Value& fleet, const std::optional<sj::Value>& history,
                         const std::optional<sj::Value>& nacks) {
  FleetFacts facts;
  if (const sj::Value* nodes = fleet.find("nodes"); nodes != nullptr && nodes->is_array()) {
    for (const auto& n : nodes->items()) {
      NodeFacts f{text_of(n, "id"), text_of(n, "role"), text_of(n, "state"), flag_of(n, "drifted"),
                  text_of(n, "rejected_version"), text_of(n, "error"), number_of(n, "cpu_seconds"),
                  number_of(n, "cpu_cores"), std::nullopt};
      if (const sj::Value* rss = n.find("rss_bytes"); rss != nullptr && rss->is_integer() && rss->as_int() >= 0)
        f.rss_bytes = static_cast<uint64_t>(rss->as_int());
      facts.nodes.push_back(std::move(f));
    }
  }
  const sj::Value* versions = history ? history->find("versions") : nullptr;
  if (versions != nullptr && versions->is_array()) {
    facts.policy_versions = versions->items().size();
    if (!versions->items().empty())
      if (const auto at = versions->items().front().string_member("published_at"))
        facts.latest_publish = std::string(*at);
  }
  facts.nacks = measure_nacks(nacks);
  return facts;
}

}  // namespace

Spread spread_of(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) {
    const auto n = static_cast<double>(values.size());
    const auto index = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n))) - 1;
    return values[std::min(index, values.size() - 1)];
  };
  s.count = values.size();
  s.p50 = rank(0.50);
  s.p95 = rank(0.95);
  s.max = values.back();
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return s;
}

std::string_view name_of(CallClass c) {
  switch (c) {
    case CallClass::NorthSouth: return "north_south";
    case CallClass::EastWest: return "east_west";
    case CallClass::Tool: return "tool";
    case CallClass::Egress: break;
  }
  return "egress";
}

std::string_view name_of(PathKind p) {
  switch (p) {
    case PathKind::Gateway: return "gateway";
    case PathKind::SidecarToGateway: return "sidecar_to_gateway";
    case PathKind::SidecarToSidecar: break;
  }
  return "sidecar_to_sidecar";
}

std::optional<double> FleetMeasurement::east_west_share() const {
  if (!traces) return std::nullopt;
  uint64_t all = 0;
  for (const auto& [c, n] : traces->calls) all += n;
  if (all == 0) return std::nullopt;
  const auto count = [&](CallClass c) { return traces->calls.count(c) ? traces->calls.at(c) : 0; };
  return static_cast<double>(count(CallClass::EastWest) + count(CallClass::Tool)) / static_cast<double>(all);
}

FleetMeasurement measure_fleet(const ApiAnswers& answers) {
  FleetMeasurement m;
  m.gaps = answers.gaps;
  if (const auto list = parse_answer(answers.trace_list)) m.traces = measure_traces(*list, answers.traces);
  else m.gaps.push_back("traces: GET /v1/traces gave no trace list");
  if (const auto budgets = parse_answer(answers.budgets)) m.budgets = measure_budgets(*budgets);
  else m.gaps.push_back("budgets: GET /v1/budgets gave no answer");
  if (const auto fleet = parse_answer(answers.fleet))
    m.fleet = measure_nodes(*fleet, parse_answer(answers.history), parse_answer(answers.nacks));
  else m.gaps.push_back("fleet: GET /v1/fleet gave no answer");
  return m;
}

}  // namespace tollway::advise
