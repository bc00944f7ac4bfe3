// DemoSummary: what `tollway demo` prints after its workload, from the running system's own answers — tokens and
// cost per tenant and agent (the gateway's GET /admin/spend), checked against the mock provider's log; budgets
// left (the gateway's spend against its configured budgets, and the control plane's leased budgets from
// GET /v1/fleet); denials by reason as the callers saw them; one request's trace as an indented tree with per-hop
// latency (the control plane's GET /v1/traces/{id}); in the JSON only, each agent's own time per request (what its
// handler spent outside its calls, measured in the demo's process). It renders text and JSON; it never makes a
// number up: a part whose source did not answer says so.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "demo/mock_provider.h"

namespace tollway::demo {

// The workload's outcome as the callers saw it.
struct WorkloadTally {
  int tasks = 0;
  int calls = 0;                      // every call an agent made (to a peer or to the LLM)
  int answered_2xx = 0;
  // (status, error code, from, to) -> calls
  std::map<std::tuple<int, std::string, std::string, std::string>, int> refusals;
  double seconds = 0;
  std::string first_trace_id;         // the first task's trace
  // For `tollway advise`'s test: calls to the LLM (through the gateway) and between agents, and the tasks by the
  // number of calls each made (a task's calls, one trace when every agent propagates its context).
  int north_south_calls = 0;
  int east_west_calls = 0;
  std::map<int, int> tasks_by_calls;
};

struct SummaryInputs {
  std::string spend_json;   // the gateway's GET /admin/spend?group_by=tenant,agent ("" when it did not answer)
  std::string fleet_json;   // the control plane's GET /v1/fleet
  std::string trace_json;   // the control plane's GET /v1/traces/{id} ("" when not available)
  ProviderTotals provider;
  WorkloadTally tally;
  bool strict_ledger = false;
  std::map<std::string, std::vector<double>> agent_own_us;  // per agent, its own time of each request (µs)
};

struct DemoSummary {
  std::string text;
  std::string json;
  bool totals_match = false;  // the gateway's accounted tokens equal the provider's logged tokens
};

DemoSummary render_summary(const SummaryInputs& inputs);

}  // namespace tollway::demo
