#include "demo/demo_summary.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <vector>

#include "core/json.h"
#include "core/strict_json.h"
#include "demo/demo_policy.h"

namespace tollway::demo {

namespace {

namespace sj = core::strict_json;

std::optional<sj::Value> parse_answer(std::string_view text) {
  std::string error;
  return sj::parse(text, error, sj::ParseLimits{8 << 20, 32});
}

int64_t int_member(const sj::Value& v, std::string_view name) {
  const sj::Value* m = v.find(name);
  return m != nullptr && m->is_integer() ? m->as_int() : 0;
}

double number_member(const sj::Value& v, std::string_view name) {
  const sj::Value* m = v.find(name);
  return m != nullptr && m->is_number() ? m->as_number() : 0;
}

std::string text_member(const sj::Value& v, std::string_view name) {
  return std::string(v.string_member(name).value_or(""));
}

struct TokenRow {
  std::string tenant, agent, cost_usd;
  int64_t requests = 0, input = 0, output = 0, total = 0;
};

void render_tokens(const sj::Value* spend, const ProviderTotals& provider, std::ostringstream& text,
                   json::ObjectWriter& out, DemoSummary& summary, std::map<std::string, int64_t>& tokens_by_tenant) {
  text << "\ntokens and cost per tenant and agent (the gateway's spend log, GET /admin/spend)\n";
  const uint64_t provider_tokens = provider.prompt_tokens + provider.completion_tokens;
  json::ObjectWriter provider_json;
  provider_json.field("calls", provider.calls).field("prompt_tokens", provider.prompt_tokens)
      .field("completion_tokens", provider.completion_tokens).field("total_tokens", provider_tokens);
  out.raw_field("provider", std::move(provider_json).finish());
  const sj::Value* groups = spend ? spend->find("groups") : nullptr;
  const sj::Value* total = spend ? spend->find("total") : nullptr;
  if (groups == nullptr || !groups->is_array() || total == nullptr) {
    text << "  the gateway's spend API did not answer\n";
    out.null_field("tokens");
    return;
  }
  text << "  " << std::left << std::setw(10) << "tenant" << std::setw(14) << "agent" << std::right << std::setw(9)
       << "requests" << std::setw(9) << "input" << std::setw(9) << "output" << std::setw(9) << "total"
       << std::setw(12) << "cost USD" << "\n";
  std::string rows_json = "[";
  for (const auto& g : groups->items()) {
    TokenRow r{text_member(g, "tenant"), text_member(g, "agent"), text_member(g, "cost_usd"),
               int_member(g, "requests"), int_member(g, "input_tokens"), int_member(g, "output_tokens"),
               int_member(g, "total_tokens")};
    tokens_by_tenant[r.tenant] += r.total;
    text << "  " << std::left << std::setw(10) << r.tenant << std::setw(14) << r.agent << std::right << std::setw(9)
         << r.requests << std::setw(9) << r.input << std::setw(9) << r.output << std::setw(9) << r.total
         << std::setw(12) << r.cost_usd << "\n";
    if (rows_json.size() > 1) rows_json += ',';
    json::ObjectWriter row;
    row.field("tenant", r.tenant).field("agent", r.agent).field("requests", r.requests).field("input_tokens", r.input)
        .field("output_tokens", r.output).field("total_tokens", r.total).field("cost_usd", r.cost_usd);
    rows_json += std::move(row).finish();
  }
  const int64_t accounted = int_member(*total, "total_tokens");
  summary.totals_match = provider.calls > 0 && accounted >= 0 && static_cast<uint64_t>(accounted) == provider_tokens;
  text << "  " << std::left << std::setw(24) << "total" << std::right << std::setw(9) << int_member(*total, "requests")
       << std::setw(9) << int_member(*total, "input_tokens") << std::setw(9) << int_member(*total, "output_tokens")
       << std::setw(9) << accounted << std::setw(12) << text_member(*total, "cost_usd") << "\n";
  text << "  the mock provider logged " << provider_tokens << " tokens in " << provider.calls << " calls: "
       << (summary.totals_match ? "equal" : "DIFFERENT") << "\n";
  json::ObjectWriter tokens;
  tokens.raw_field("groups", rows_json + "]").field("total_tokens", accounted)
      .field("cost_usd", text_member(*total, "cost_usd")).field("requests", int_member(*total, "requests"));
  out.raw_field("tokens", std::move(tokens).finish());
}

void render_budgets(const std::map<std::string, int64_t>& tokens_by_tenant, const sj::Value* fleet, bool strict,
                    std::ostringstream& text, json::ObjectWriter& out) {
  text << "\nbudgets left\n";
  std::string budgets = "[";
  const auto add = [&](std::string_view where, std::string_view name, std::string_view subject, int64_t limit,
                       int64_t spent, std::string_view ledger) {
    const int64_t left = limit > spent ? limit - spent : 0;
    text << "  " << std::left << std::setw(9) << where << std::setw(17) << name << std::setw(10) << subject
         << std::right << std::setw(8) << spent << " of " << std::setw(7) << limit << " tokens spent, " << left
         << " left (" << ledger << ")\n";
    if (budgets.size() > 1) budgets += ',';
    json::ObjectWriter b;
    b.field("where", where).field("name", name).field("subject", subject).field("limit", limit).field("spent", spent)
        .field("remaining", left).field("ledger", ledger);
    budgets += std::move(b).finish();
  };
  const std::string_view gateway_ledger = strict ? "strict, Redis" : "local";
  for (const char* tenant : {"acme", "initech"}) {
    const auto it = tokens_by_tenant.find(tenant);
    add("gateway", "tenant-day", tenant, kTenantDailyTokens, it == tokens_by_tenant.end() ? 0 : it->second, gateway_ledger);
  }
  const auto initech = tokens_by_tenant.find("initech");
  add("gateway", "initech-day", "initech", kInitechDailyTokens, initech == tokens_by_tenant.end() ? 0 : initech->second,
      gateway_ledger);
  const sj::Value* leased = fleet ? fleet->find("budgets") : nullptr;
  if (leased != nullptr && leased->is_array()) {
    for (const auto& b : leased->items()) {
      const sj::Value* holders = b.find("holders");
      const std::string ledger = "leased by " + std::to_string(holders && holders->is_array() ? holders->items().size() : 0) +
                                 " sidecars, " + std::to_string(int_member(b, "leased")) + " out now";
      add("mesh", "mesh-llm-tokens", "all agents", int_member(b, "limit"), int_member(b, "spent"), ledger);
    }
  } else {
    text << "  (the control plane's leased budgets did not answer)\n";
  }
  out.raw_field("budgets", budgets + "]");
}

void render_denials(const WorkloadTally& tally, std::ostringstream& text, json::ObjectWriter& out) {
  text << "\ndenials by reason (as the calling agents saw them)\n";
  std::string list = "[";
  for (const auto& [key, count] : tally.refusals) {
    const auto& [status, code, from, to] = key;
    text << "  " << std::setw(3) << status << " " << std::left << std::setw(24) << (code.empty() ? "-" : code)
         << std::setw(30) << (from + " → " + to) << std::right << std::setw(5) << count << "\n";
    if (list.size() > 1) list += ',';
    json::ObjectWriter d;
    d.field("status", status).field("code", code).field("from", from).field("to", to).field("count", count);
    list += std::move(d).finish();
  }
  if (tally.refusals.empty()) text << "  none\n";
  out.raw_field("denials", list + "]");
}

// The trace as an indented tree: each span under its parent, with its duration and its own time (the span's
// duration minus its children's, as the control plane computes it).
void render_trace(const WorkloadTally& tally, const sj::Value* trace, std::ostringstream& text, json::ObjectWriter& out) {
  text << "\none request's trace (task 1, trace " << tally.first_trace_id << ")\n";
  const sj::Value* spans = trace ? trace->find("spans") : nullptr;
  if (spans == nullptr || !spans->is_array() || spans->items().empty()) {
    text << "  the control plane's trace window has no spans of it\n";
    out.null_field("trace");
    return;
  }
  for (const auto& s : spans->items()) {
    const int64_t depth = int_member(s, "depth");
    std::ostringstream label;
    label << std::string(static_cast<std::size_t>(2 * depth), ' ') << text_member(s, "service") << "  "
          << text_member(s, "name");
    const sj::Value* repaired = s.find("repaired");
    const sj::Value* orphan = s.find("orphan");
    if (repaired != nullptr && repaired->is_bool() && repaired->as_bool()) label << "  [repaired orphan]";
    else if (orphan != nullptr && orphan->is_bool() && orphan->as_bool()) label << "  [orphan]";
    text << "  " << std::left << std::setw(64) << label.str() << std::right << std::fixed << std::setprecision(2)
         << std::setw(9) << number_member(s, "duration_us") / 1000.0 << " ms  (own "
         << number_member(s, "self_us") / 1000.0 << " ms)\n";
  }
  json::ObjectWriter t;
  t.field("trace_id", tally.first_trace_id).field("spans", static_cast<int64_t>(spans->items().size()));
  out.raw_field("trace", std::move(t).finish());
}

// {requests, p50, p99, mean} of one agent's own time per request (µs; nulls without a request).
std::string own_time_json(std::vector<double> samples) {
  json::ObjectWriter w;
  w.field("requests", static_cast<uint64_t>(samples.size()));
  if (samples.empty()) {
    w.null_field("p50").null_field("p99").null_field("mean");
    return std::move(w).finish();
  }
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
  };
  double sum = 0;
  for (const double s : samples) sum += s;
  w.field("p50", at(0.5)).field("p99", at(0.99)).field("mean", sum / static_cast<double>(samples.size()));
  return std::move(w).finish();
}

}  // namespace

DemoSummary render_summary(const SummaryInputs& in) {
  DemoSummary summary;
  std::ostringstream text;
  json::ObjectWriter out;
  const auto& t = in.tally;
  text << "  " << t.tasks << " tasks, " << t.calls << " calls between agents and to the LLM in " << std::fixed
       << std::setprecision(1) << t.seconds << " s; " << t.answered_2xx << " answered, " << (t.calls - t.answered_2xx)
       << " refused or failed\n";
  json::ObjectWriter workload;
  workload.field("tasks", t.tasks).field("calls", t.calls).field("answered", t.answered_2xx).field("seconds", t.seconds)
      .field("north_south_calls", t.north_south_calls).field("east_west_calls", t.east_west_calls);
  json::ObjectWriter by_calls;
  for (const auto& [calls, tasks] : t.tasks_by_calls) by_calls.field(std::to_string(calls), tasks);
  workload.raw_field("tasks_by_calls", std::move(by_calls).finish());
  out.raw_field("workload", std::move(workload).finish());

  const auto spend = parse_answer(in.spend_json);
  const auto fleet = parse_answer(in.fleet_json);
  const auto trace = parse_answer(in.trace_json);
  std::map<std::string, int64_t> tokens_by_tenant;
  render_tokens(spend ? &*spend : nullptr, in.provider, text, out, summary, tokens_by_tenant);
  out.field("totals_match", summary.totals_match);
  render_budgets(tokens_by_tenant, fleet ? &*fleet : nullptr, in.strict_ledger, text, out);
  render_denials(t, text, out);
  render_trace(t, trace ? &*trace : nullptr, text, out);
  json::ObjectWriter own;
  for (const auto& [agent, samples] : in.agent_own_us) own.raw_field(agent, own_time_json(samples));
  out.raw_field("agents_own_time_us", std::move(own).finish());
  summary.text = text.str();
  summary.json = std::move(out).finish();
  return summary;
}

}  // namespace tollway::demo
