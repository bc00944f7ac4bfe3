// FleetMeasurement: what `tollway advise --control` and the control plane's GET /v1/advice measure of a running
// fleet, computed from the control plane's own API answers (the JSON of GET /v1/traces, /v1/traces/{id},
// /v1/budgets, /v1/fleet, /v1/history, /v1/history/nacks): the north-south vs east-west (and tool/MCP, egress)
// share of calls and tokens, calls per trace and the deepest chain of hops in each, the latency tax of each path
// kind from the tollway spans' own time, the orphaned-trace rate, leased budgets' spend against their limits,
// drift, NACKs now and on record, policy changes, and each node's CPU and memory as it reports them on its polls. Pure: it reads the texts it is given, never the network or a clock,
// and it never invents a number — a part whose answer is missing says so in `gaps`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tollway::advise {

// The control plane's answers, as fetched over HTTP or produced in process.
struct ApiAnswers {
  std::optional<std::string> fleet;       // GET /v1/fleet
  std::optional<std::string> budgets;     // GET /v1/budgets
  std::optional<std::string> history;     // GET /v1/history
  std::optional<std::string> nacks;       // GET /v1/history/nacks
  std::optional<std::string> trace_list;  // GET /v1/traces?limit=N
  std::vector<std::string> traces;        // GET /v1/traces/{id} of each listed trace still held
  std::vector<std::string> gaps;          // what could not be fetched, and why
};

// Percentiles of a list of values (nearest rank).
struct Spread {
  uint64_t count = 0;
  double p50 = 0, p95 = 0, max = 0, mean = 0;
};
Spread spread_of(std::vector<double> values);

// The kinds of call a trace shows, each counted once per call.
enum class CallClass { NorthSouth, EastWest, Tool, Egress };
inline constexpr CallClass kCallClasses[] = {CallClass::NorthSouth, CallClass::EastWest, CallClass::Tool,
                                             CallClass::Egress};
std::string_view name_of(CallClass c);  // north_south, east_west, tool, egress

// The own time (span duration minus its children's) of the tollway spans on one kind of path.
enum class PathKind { Gateway, SidecarToGateway, SidecarToSidecar };
inline constexpr PathKind kPathKinds[] = {PathKind::Gateway, PathKind::SidecarToGateway, PathKind::SidecarToSidecar};
std::string_view name_of(PathKind p);  // gateway, sidecar_to_gateway, sidecar_to_sidecar

struct TraceFacts {
  uint64_t traces_listed = 0;   // traces the window listed
  uint64_t traces_read = 0;     // of which read whole
  uint64_t traces_with_calls = 0;
  uint64_t window_max_spans = 0, window_spans_held = 0;
  std::map<CallClass, uint64_t> calls;
  uint64_t tokens_north_south = 0;      // gen_ai.usage input + output on north-south calls
  uint64_t tokens_east_west = 0;        // ... on east-west and tool calls (an LLM reached as a peer)
  uint64_t tokens_behind_east_west = 0; // north-south tokens of calls made below an east-west hop
  uint64_t calls_with_usage = 0;        // north-south calls whose span carried usage
  std::map<uint64_t, uint64_t> traces_by_calls;  // calls in a trace -> traces
  Spread calls_per_trace;
  Spread depth_per_trace;  // the longest chain of calls (hops) in each trace, a call and the calls above it
  std::map<PathKind, Spread> tax_us;    // own time per call, microseconds
  Spread tax_per_trace_us;              // sum of the tollway own time along each trace
  uint64_t orphan_traces = 0;           // traces started by a call whose agent dropped the trace context
  uint64_t orphan_spans = 0, repaired_spans = 0;
};

struct LeasedBudget {
  std::string key;
  int64_t limit = 0, spent = 0, leased = 0;
  int64_t overspend = 0;  // max(0, spent - limit)
  uint64_t holders = 0;
};

struct NodeFacts {
  std::string id, role, state;
  bool drifted = false;
  std::string rejected_version, nack_reason;  // the NACK it holds now, "" when none
  std::optional<double> cpu_seconds;   // the process's CPU time, as the node said on its latest poll
  std::optional<double> cpu_cores;     // CPU seconds per second between its last two polls
  std::optional<uint64_t> rss_bytes;
};

// The NACKs the control plane has on record (not only those nodes hold now).
struct NackHistory {
  uint64_t total = 0, nodes = 0;
  std::string latest_at, latest_node, latest_version, latest_reason;  // "" when there is none
};

struct FleetFacts {
  std::vector<NodeFacts> nodes;
  std::optional<NackHistory> nacks;  // none: /v1/history/nacks was not answered
  uint64_t policy_versions = 0;
  std::optional<std::string> latest_publish;  // RFC 3339, newest version
};

struct FleetMeasurement {
  std::optional<TraceFacts> traces;
  std::optional<std::vector<LeasedBudget>> budgets;
  std::optional<FleetFacts> fleet;
  std::vector<std::string> gaps;

  // East-west (with tool) calls over all calls; nullopt without calls.
  std::optional<double> east_west_share() const;
};

FleetMeasurement measure_fleet(const ApiAnswers& answers);

}  // namespace tollway::advise
