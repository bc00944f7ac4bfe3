// TraceWindow: the control plane's bounded window of recent traces, filled from POST /v1/traces and read by the
// dashboard's Traces page and `tollway advise`. It holds at most max_spans spans: a request's spans are added whole
// (a span already held, an exporter's retry, is not added twice), then whole traces are evicted, the one that
// received a span least recently first, until the bound holds again. A trace never holds more than max_spans spans
// itself; spans beyond that are refused (counted, answered as OTLP partialSuccess). Not a trace store: nothing is
// written to disk and nothing survives a restart. Single-threaded (the control thread); it never grows past its
// bound, and never evicts part of a trace.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "control/traces/otlp_trace_reader.h"

namespace tollway::control::traces {

struct WindowTrace {
  telemetry::TraceId trace_id;
  std::vector<WindowSpan> spans;  // in order of receipt, span ids unique
  uint64_t start_unix_nano = 0;   // the earliest span start
  uint64_t end_unix_nano = 0;     // the latest span end
};

class TraceWindow {
 public:
  // max_spans > 0.
  explicit TraceWindow(std::size_t max_spans) : max_spans_(max_spans) {}

  // What one add() did with the spans it was given.
  struct Added {
    uint64_t accepted = 0;   // now held (or held and since evicted by a later trace of the same request)
    uint64_t duplicate = 0;  // already held: not added again
    uint64_t rejected = 0;   // their trace already holds max_spans spans
    uint64_t evicted = 0;    // spans of whole traces evicted to make room
  };
  Added add(std::vector<ReceivedSpan> spans);

  // Up to `limit` traces, the latest start first (ties: the trace id).
  std::vector<const WindowTrace*> newest(std::size_t limit) const;
  const WindowTrace* find(const telemetry::TraceId& trace_id) const;

  std::size_t max_spans() const { return max_spans_; }
  std::size_t spans_held() const { return spans_held_; }
  std::size_t traces_held() const { return by_id_.size(); }
  // Totals since the start, for /metrics.
  const Added& totals() const { return totals_; }

 private:
  struct TraceIdHash {
    std::size_t operator()(const telemetry::TraceId& id) const;
  };
  using Order = std::list<WindowTrace>;  // front: received a span least recently

  // Evicts whole traces from the front until the bound holds (the back trace, being at most max_spans, stays).
  void evict_until_bounded(Added& added);

  std::size_t max_spans_;
  std::size_t spans_held_ = 0;
  Order order_;
  std::unordered_map<telemetry::TraceId, Order::iterator, TraceIdHash> by_id_;
  Added totals_;
};

}  // namespace tollway::control::traces
