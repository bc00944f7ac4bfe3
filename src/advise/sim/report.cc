#include "advise/sim/report.h"

#include <cstdio>
#include <string_view>

#include "core/json.h"

namespace tollway::sim {

const char* topology_name(Topology t) {
  switch (t) {
    case Topology::Direct: return "direct";
    case Topology::Gateway: return "gateway";
    case Topology::Sidecar: return "sidecar";
    case Topology::Hybrid: return "hybrid";
  }
  return "";
}

namespace {

std::string format(const char* pattern, auto... values) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, pattern, values...);
  return buffer;
}

std::string ms(double us) { return format("%.3f", us / 1000); }

std::string quantity(double v) {
  if (v >= 1e9) return format("%.2fG", v / 1e9);
  if (v >= 1e6) return format("%.2fM", v / 1e6);
  if (v >= 1e4) return format("%.1fk", v / 1e3);
  return format("%.0f", v);
}

std::string latency_json(const SimResult& r) {
  std::string rows = "[";
  for (std::size_t l = 0; l < kTopologies.size(); ++l) {
    const LatencyStats& s = r.sample.latency[l];
    json::ObjectWriter w;
    w.field("topology", topology_name(kTopologies[l]))
        .field("e2e_p50_us", s.e2e_p50_us).field("e2e_p99_us", s.e2e_p99_us)
        .field("added_p50_us", s.added_p50_us).field("added_p99_us", s.added_p99_us)
        .field("tax_p50_us", s.tax_p50_us).field("tax_p99_us", s.tax_p99_us).field("tax_mean_us", s.tax_mean_us)
        .field("passes_per_task", s.passes_mean);
    rows += (rows.size() > 1 ? "," : "") + std::move(w).finish();
  }
  return rows + "]";
}

}  // namespace

std::string render_text(const Scenario& s, const SimResult& r) {
  std::string out;
  out += "tollway sim: " + (s.name.empty() ? std::string("scenario") : s.name) + " (seed " + std::to_string(s.seed) + ")\n";
  out += format("  %lld agents, %zu roles; %s tasks/s × %.0f s = %s tasks, %s requests (%.2f east-west + %.2f LLM per task)\n",
                static_cast<long long>(r.agents), s.graph.roles.size(), quantity(r.tasks_per_second).c_str(),
                s.duration_s, quantity(r.tasks_represented).c_str(), quantity(r.requests_represented).c_str(),
                r.calls_per_task.east_west, r.calls_per_task.north_south);
  out += format("\nlatency per task, %lld tasks sampled (ms; tax = tollway passes on the critical path; added = "
                "end-to-end minus direct)\n",
                static_cast<long long>(r.sample.tasks));
  out += format("  %-9s %10s %10s %10s %10s %10s %10s %10s %8s\n", "topology", "e2e p50", "e2e p99", "added p50",
                "added p99", "tax p50", "tax p99", "tax mean", "passes");
  for (std::size_t l = 0; l < kTopologies.size(); ++l) {
    const LatencyStats& x = r.sample.latency[l];
    out += format("  %-9s %10s %10s %10s %10s %10s %10s %10s %8.2f\n", topology_name(kTopologies[l]),
                  ms(x.e2e_p50_us).c_str(), ms(x.e2e_p99_us).c_str(), ms(x.added_p50_us).c_str(),
                  ms(x.added_p99_us).c_str(), ms(x.tax_p50_us).c_str(), ms(x.tax_p99_us).c_str(),
                  ms(x.tax_mean_us).c_str(), x.passes_mean);
  }
  out += format("\ntokens: %.1f per task (sampled: %lld LLM calls admitted, %lld refused)\n", r.tokens_per_task,
                static_cast<long long>(r.sample.tokens.llm_calls_admitted),
                static_cast<long long>(r.sample.tokens.llm_calls_refused));
  out += "\nbudget (" + std::string(s.budget.ledger == BudgetModel::Ledger::Strict ? "strict" : "leased") + ")\n";
  if (s.budget.ledger == BudgetModel::Ledger::Strict) {
    out += "  strict: every request reserves and settles in Redis (2 commands sent per request, docs/benchmarks.md);\n"
           "  overspend 0 beyond in-flight settlement; control-plane reports 0/s\n";
  } else if (!r.lease) {
    out += "  no limit set (budget.limit): the leased model did not run\n";
  } else {
    const LeaseOutcome& x = *r.lease;
    out += format("  %lld nodes (demand %s), limit %s tokens: served %s (%.1f %%), denied %s, exhausted at %s\n",
                  static_cast<long long>(x.nodes),
                  s.budget.demand_by == BudgetModel::DemandBy::Agent ? "by agent" : "Zipf", quantity(x.limit).c_str(),
                  quantity(x.served).c_str(),
                  x.limit > 0 ? 100 * x.served / x.limit : 0.0, quantity(x.denied).c_str(),
                  x.exhausted_at_s < 0 ? "never" : format("%.1f s", x.exhausted_at_s).c_str());
    out += format("  overspend %s tokens against the bound B = R + K + U + S = 0 + %s + %s + 0 = %s: %s\n",
                  quantity(x.overspend).c_str(), quantity(x.bound_k).c_str(), quantity(x.bound_u).c_str(),
                  quantity(x.bound()).c_str(), x.overspend <= x.bound() + 0.5 ? "within" : "BEYOND");
    out += format("  control plane: %.1f reports/s (nodes ÷ (sync + report latency) = %.1f)\n", x.reports_per_second,
                  x.reports_per_second_closed_form);
  }
  const ResourceTax& t = r.resources;
  out += format("\nsidecar resource tax (one sidecar per agent, %.1f requests/s each)\n",
                t.requests_per_sidecar_per_second);
  out += format("  CPU    sidecars %10.2f cores, workload %10.2f cores: %5.1f %% of the total\n", t.sidecar_cpu_cores,
                t.workload_cpu_cores, 100 * t.cpu_share);
  out += format("  memory sidecars %10.0f MB,    workload %10.0f MB:    %5.1f %% of the total\n", t.sidecar_memory_mb,
                t.workload_memory_mb, 100 * t.memory_share);
  out += format("\nsimulated one by one: %lld events (sampled tasks + lease reports); the rest in closed form\n",
                static_cast<long long>(r.events));
  return out;
}

std::string render_json(const Scenario& s, const SimResult& r) {
  json::ObjectWriter scenario;
  scenario.field("name", s.name).field("seed", s.seed).field("duration_s", s.duration_s).field("agents", r.agents)
      .field("roles", static_cast<int64_t>(s.graph.roles.size())).field("tasks_per_second", r.tasks_per_second)
      .field("tasks", r.tasks_represented).field("requests", r.requests_represented)
      .field("east_west_calls_per_task", r.calls_per_task.east_west)
      .field("north_south_calls_per_task", r.calls_per_task.north_south)
      .field("north_south_share", s.north_south_share);
  json::ObjectWriter hops;
  hops.field("gateway", s.hops.gateway.describe()).field("sidecar_pair", s.hops.sidecar_pair.describe())
      .field("sidecar_one", s.hops.sidecar_one.describe()).field("sidecar_gateway", s.hops.sidecar_gateway.describe());
  json::ObjectWriter latency;
  latency.field("samples", r.sample.tasks).raw_field("topologies", latency_json(r));
  json::ObjectWriter tokens;
  tokens.field("per_task", r.tokens_per_task).field("sampled_tokens", r.sample.tokens.tokens)
      .field("llm_calls_admitted", r.sample.tokens.llm_calls_admitted)
      .field("llm_calls_refused", r.sample.tokens.llm_calls_refused)
      .field("total", r.tokens_per_task * r.tasks_represented);
  json::ObjectWriter budget;
  budget.field("ledger", s.budget.ledger == BudgetModel::Ledger::Strict ? "strict" : "leased");
  if (s.budget.ledger == BudgetModel::Ledger::Strict) {
    budget.field("overspend", 0.0).field("bound", 0.0).field("within_bound", true).field("reports_per_second", 0.0)
        .field("redis_commands_per_request", 2.0);
  } else if (r.lease) {
    const LeaseOutcome& x = *r.lease;
    budget.field("demand_by", s.budget.demand_by == BudgetModel::DemandBy::Agent ? "agent" : "zipf");
    budget.field("nodes", x.nodes).field("limit", x.limit).field("demanded", x.demanded).field("served", x.served)
        .field("denied", x.denied).field("overspend", x.overspend).field("bound", x.bound())
        .field("bound_k", x.bound_k).field("bound_u", x.bound_u).field("within_bound", x.overspend <= x.bound() + 0.5)
        .field("exhausted_at_s", x.exhausted_at_s).field("reports", x.reports)
        .field("reports_per_second", x.reports_per_second)
        .field("reports_per_second_closed_form", x.reports_per_second_closed_form).field("events", x.events);
  } else {
    budget.null_field("overspend");
  }
  const ResourceTax& t = r.resources;
  json::ObjectWriter resources;
  resources.field("sidecars", t.sidecars).field("sidecar_passes_per_second", t.sidecar_passes_per_second)
      .field("requests_per_sidecar_per_second", t.requests_per_sidecar_per_second)
      .field("sidecar_cpu_cores", t.sidecar_cpu_cores).field("sidecar_memory_mb", t.sidecar_memory_mb)
      .field("workload_cpu_cores", t.workload_cpu_cores).field("workload_memory_mb", t.workload_memory_mb)
      .field("cpu_share", t.cpu_share).field("memory_share", t.memory_share);
  json::ObjectWriter out;
  out.raw_field("scenario", std::move(scenario).finish()).raw_field("hop_costs_us", std::move(hops).finish())
      .raw_field("latency", std::move(latency).finish()).raw_field("tokens", std::move(tokens).finish())
      .raw_field("budget", std::move(budget).finish()).raw_field("resources", std::move(resources).finish())
      .field("events", r.events);
  return std::move(out).finish();
}

}  // namespace tollway::sim
