#include "control/traces/trace_queries.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace tollway::control::traces {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::string_view kind_name(SpanKind kind) {
  switch (kind) {
    case SpanKind::Internal: return "INTERNAL";
    case SpanKind::Server: return "SERVER";
    case SpanKind::Client: return "CLIENT";
    case SpanKind::Producer: return "PRODUCER";
    case SpanKind::Consumer: return "CONSUMER";
    case SpanKind::Unspecified: break;
  }
  return "UNSPECIFIED";
}

std::string_view status_name(StatusCode status) {
  switch (status) {
    case StatusCode::Ok: return "OK";
    case StatusCode::Error: return "ERROR";
    case StatusCode::Unset: break;
  }
  return "UNSET";
}

double micros(uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

const std::string& service_of(const WindowSpan& span) {
  static const std::string kNoService;
  return span.service ? *span.service : kNoService;
}

bool earlier(const WindowSpan& a, const WindowSpan& b) {
  if (a.start_unix_nano != b.start_unix_nano) return a.start_unix_nano < b.start_unix_nano;
  return a.span_id.bytes < b.span_id.bytes;
}

// Each span's parent among the trace's spans (what a summary needs).
struct Parents {
  std::vector<std::size_t> parent;  // index of the parent span in the window, kNone when none is held
  std::size_t root = kNone;         // the earliest span without a parent span id, if held
};

Parents parents_of(const WindowTrace& trace) {
  const auto& spans = trace.spans;
  std::vector<std::pair<telemetry::SpanId, std::size_t>> by_id;
  by_id.reserve(spans.size());
  for (std::size_t i = 0; i < spans.size(); ++i) by_id.emplace_back(spans[i].span_id, i);
  const auto id_less = [](const auto& a, const auto& b) { return a.first.bytes < b.first.bytes; };
  std::sort(by_id.begin(), by_id.end(), id_less);
  Parents out;
  out.parent.assign(spans.size(), kNone);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (!spans[i].parent_span_id.valid()) {
      if (out.root == kNone || earlier(spans[i], spans[out.root])) out.root = i;
      continue;
    }
    const auto found = std::lower_bound(by_id.begin(), by_id.end(), std::pair{spans[i].parent_span_id, kNone}, id_less);
    if (found != by_id.end() && found->first == spans[i].parent_span_id && found->second != i)
      out.parent[i] = found->second;
  }
  return out;
}

// The whole tree, for a waterfall: children, order and depth.
struct TraceShape {
  Parents parents;
  std::vector<std::vector<std::size_t>> children;  // by start, then span id
  std::vector<std::size_t> order;                  // waterfall order
  std::vector<uint32_t> depth;                     // by span index
};

TraceShape shape_of(const WindowTrace& trace) {
  const auto& spans = trace.spans;
  const std::size_t n = spans.size();
  TraceShape shape{parents_of(trace), {}, {}, {}};
  shape.children.resize(n);
  std::vector<std::size_t> tops;  // spans without a parent held: roots and spans whose parent is missing
  for (std::size_t i = 0; i < n; ++i) {
    if (shape.parents.parent[i] == kNone) tops.push_back(i);
    else shape.children[shape.parents.parent[i]].push_back(i);
  }
  const auto by_start = [&](std::size_t a, std::size_t b) { return earlier(spans[a], spans[b]); };
  for (auto& list : shape.children) std::sort(list.begin(), list.end(), by_start);
  std::sort(tops.begin(), tops.end(), by_start);
  // Depth-first from each top span; spans in a parent cycle (no top reaches them) start trees of their own.
  shape.depth.assign(n, 0);
  std::vector<bool> placed(n, false);
  std::vector<std::size_t> rest(n);
  for (std::size_t i = 0; i < n; ++i) rest[i] = i;
  std::sort(rest.begin(), rest.end(), by_start);
  tops.insert(tops.end(), rest.begin(), rest.end());
  shape.order.reserve(n);
  std::vector<std::pair<std::size_t, uint32_t>> stack;
  for (const std::size_t top : tops) {
    if (placed[top]) continue;
    stack.emplace_back(top, 0);
    while (!stack.empty()) {
      const auto [i, depth] = stack.back();
      stack.pop_back();
      if (placed[i]) continue;
      placed[i] = true;
      shape.depth[i] = depth;
      shape.order.push_back(i);
      for (auto child = shape.children[i].rbegin(); child != shape.children[i].rend(); ++child)
        if (!placed[*child]) stack.emplace_back(*child, depth + 1);
    }
  }
  return shape;
}

// The span's duration minus the time covered by at least one child (clipped to the span, merged).
uint64_t self_nanos(const WindowTrace& trace, const TraceShape& shape, std::size_t i) {
  const WindowSpan& span = trace.spans[i];
  std::vector<std::pair<uint64_t, uint64_t>> covered;
  for (const std::size_t c : shape.children[i]) {
    const uint64_t from = std::max(trace.spans[c].start_unix_nano, span.start_unix_nano);
    const uint64_t to = std::min(trace.spans[c].end_unix_nano, span.end_unix_nano);
    if (from < to) covered.emplace_back(from, to);
  }
  std::sort(covered.begin(), covered.end());
  uint64_t busy = 0, reach = span.start_unix_nano;
  for (const auto& [from, to] : covered) {
    if (to <= reach) continue;
    busy += to - std::max(from, reach);
    reach = to;
  }
  return span.end_unix_nano - span.start_unix_nano - busy;
}

// A span enters a service (starts a hop) when it has no parent held or its parent ran in another service.
bool enters_service(const WindowTrace& trace, const Parents& parents, std::size_t i) {
  return parents.parent[i] == kNone || service_of(trace.spans[parents.parent[i]]) != service_of(trace.spans[i]);
}

// The summary fields, written into `w`.
void write_summary(json::ObjectWriter& w, const WindowTrace& trace, const Parents& parents) {
  const auto& spans = trace.spans;
  std::set<std::string_view> services;
  uint64_t hops = 0, orphans = 0, repaired = 0, parent_missing = 0, errors = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    services.insert(service_of(spans[i]));
    hops += enters_service(trace, parents, i) ? 1 : 0;
    orphans += spans[i].orphan ? 1 : 0;
    repaired += spans[i].repaired ? 1 : 0;
    parent_missing += spans[i].parent_span_id.valid() && parents.parent[i] == kNone ? 1 : 0;
    errors += spans[i].status == StatusCode::Error ? 1 : 0;
  }
  // Named after its root span, or without one the earliest span.
  std::size_t named_index = parents.root;
  if (named_index == kNone) {
    named_index = 0;
    for (std::size_t i = 1; i < spans.size(); ++i)
      if (earlier(spans[i], spans[named_index])) named_index = i;
  }
  const WindowSpan& named = spans[named_index];
  std::string service_list = "[";
  for (const auto& s : services) service_list += (service_list.size() > 1 ? "," : "") + json::quoted(s);
  w.field("trace_id", trace.trace_id.hex())
      .field("name", named.name)
      .field("service", service_of(named))
      .field("has_root", parents.root != kNone)
      .field("start_unix_nano", std::to_string(trace.start_unix_nano))
      .field("duration_us", micros(trace.end_unix_nano - trace.start_unix_nano))
      .field("span_count", static_cast<uint64_t>(spans.size()))
      .raw_field("services", service_list + "]")
      .field("hop_count", hops)
      .field("orphan_spans", orphans)
      .field("repaired_spans", repaired)
      .field("parent_missing_spans", parent_missing)
      .field("error_spans", errors)
      .field("error", errors > 0);
}

std::string span_json(const WindowTrace& trace, const TraceShape& shape, std::size_t i) {
  const WindowSpan& s = trace.spans[i];
  json::ObjectWriter w;
  w.field("span_id", s.span_id.hex());
  if (s.parent_span_id.valid()) w.field("parent_span_id", s.parent_span_id.hex());
  else w.null_field("parent_span_id");
  w.field("depth", static_cast<uint64_t>(shape.depth[i]))
      .field("service", service_of(s))
      .field("name", s.name)
      .field("kind", kind_name(s.kind))
      .field("start_offset_us", micros(s.start_unix_nano - trace.start_unix_nano))
      .field("duration_us", micros(s.end_unix_nano - s.start_unix_nano))
      .field("self_us", micros(self_nanos(trace, shape, i)))
      .field("status", status_name(s.status))
      .field("status_message", s.status_message)
      .field("enters_service", enters_service(trace, shape.parents, i))
      .field("orphan", s.orphan)
      .field("repaired", s.repaired)
      .field("parent_missing", s.parent_span_id.valid() && shape.parents.parent[i] == kNone)
      .field("tollway_hops", static_cast<uint64_t>(s.tollway_hops))
      .field("peer", s.peer);
  if (s.http_status != 0) w.field("http_status", static_cast<uint64_t>(s.http_status));
  else w.null_field("http_status");
  if (s.has_usage)
    w.field("input_tokens", static_cast<uint64_t>(s.input_tokens)).field("output_tokens", static_cast<uint64_t>(s.output_tokens));
  else
    w.null_field("input_tokens").null_field("output_tokens");
  if (s.protocol == RpcProtocol::None) w.null_field("protocol");
  else w.field("protocol", s.protocol == RpcProtocol::Mcp ? "mcp" : "a2a");
  w.field("tollway", s.tollway);
  return std::move(w).finish();
}

}  // namespace

std::string trace_list_json(const TraceWindow& window, std::size_t limit) {
  std::string list = "[";
  for (const WindowTrace* trace : window.newest(limit)) {
    json::ObjectWriter w;
    write_summary(w, *trace, parents_of(*trace));
    list += (list.size() > 1 ? "," : "") + std::move(w).finish();
  }
  json::ObjectWriter w;
  w.field("max_spans", static_cast<uint64_t>(window.max_spans()))
      .field("spans_held", static_cast<uint64_t>(window.spans_held()))
      .field("traces_held", static_cast<uint64_t>(window.traces_held()))
      .raw_field("traces", list + "]");
  return std::move(w).finish();
}

std::string trace_json(const WindowTrace& trace) {
  const TraceShape shape = shape_of(trace);
  std::string spans = "[";
  for (const std::size_t i : shape.order) spans += (spans.size() > 1 ? "," : "") + span_json(trace, shape, i);
  json::ObjectWriter w;
  write_summary(w, trace, shape.parents);
  w.raw_field("spans", spans + "]");
  return std::move(w).finish();
}

}  // namespace tollway::control::traces
