#include "control/traces/trace_window.h"

#include <algorithm>
#include <cstring>

namespace tollway::control::traces {

std::size_t TraceWindow::TraceIdHash::operator()(const telemetry::TraceId& id) const {
  // Trace ids are random (W3C): their low 8 bytes are as good a hash as any.
  uint64_t low = 0;
  std::memcpy(&low, id.bytes.data() + 8, sizeof low);
  return static_cast<std::size_t>(low);
}

TraceWindow::Added TraceWindow::add(std::vector<ReceivedSpan> spans) {
  Added added;
  for (auto& received : spans) {
    auto found = by_id_.find(received.trace_id);
    if (found == by_id_.end()) {
      order_.push_back(WindowTrace{received.trace_id, {}, received.span.start_unix_nano, received.span.end_unix_nano});
      found = by_id_.emplace(received.trace_id, std::prev(order_.end())).first;
    } else {
      order_.splice(order_.end(), order_, found->second);  // received a span now: the last to be evicted
    }
    WindowTrace& trace = *found->second;
    const bool held = std::any_of(trace.spans.begin(), trace.spans.end(),
                                  [&](const WindowSpan& s) { return s.span_id == received.span.span_id; });
    if (held) {
      ++added.duplicate;
      continue;
    }
    if (trace.spans.size() >= max_spans_) {
      ++added.rejected;
      continue;
    }
    trace.start_unix_nano = std::min(trace.start_unix_nano, received.span.start_unix_nano);
    trace.end_unix_nano = std::max(trace.end_unix_nano, received.span.end_unix_nano);
    trace.spans.push_back(std::move(received.span));
    ++spans_held_;
    ++added.accepted;
    evict_until_bounded(added);
  }
  totals_.accepted += added.accepted;
  totals_.duplicate += added.duplicate;
  totals_.rejected += added.rejected;
  totals_.evicted += added.evicted;
  return added;
}

void TraceWindow::evict_until_bounded(Added& added) {
  while (spans_held_ > max_spans_ && order_.size() > 1) {
    const WindowTrace& oldest = order_.front();
    spans_held_ -= oldest.spans.size();
    added.evicted += oldest.spans.size();
    by_id_.erase(oldest.trace_id);
    order_.pop_front();
  }
}

std::vector<const WindowTrace*> TraceWindow::newest(std::size_t limit) const {
  std::vector<const WindowTrace*> traces;
  traces.reserve(order_.size());
  for (const auto& trace : order_) traces.push_back(&trace);
  const auto later = [](const WindowTrace* a, const WindowTrace* b) {
    if (a->start_unix_nano != b->start_unix_nano) return a->start_unix_nano > b->start_unix_nano;
    return a->trace_id.bytes < b->trace_id.bytes;
  };
  limit = std::min(limit, traces.size());
  std::partial_sort(traces.begin(), traces.begin() + static_cast<std::ptrdiff_t>(limit), traces.end(), later);
  traces.resize(limit);
  return traces;
}

const WindowTrace* TraceWindow::find(const telemetry::TraceId& trace_id) const {
  const auto found = by_id_.find(trace_id);
  return found == by_id_.end() ? nullptr : &*found->second;
}

}  // namespace tollway::control::traces
