// InFlightRegistry: the inbound requests a sidecar is serving right now (trace id, SERVER span, verified
// caller, hop count), shared by all workers behind one mutex. The outbound side asks it which inbound request
// a call continues (by trace id) and, for a call without trace context (an orphan), how many are in flight
// and which is the most recent. It holds only ids and counts, never a header value; it never guesses a parent
// itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/trace_context.h"

namespace tollway::sidecar {

struct InFlightRequest {
  telemetry::TraceId trace_id;
  telemetry::SpanId span_id;  // the inbound request's SERVER span
  uint8_t trace_flags = 0;
  std::string caller;  // the caller sidecar's verified SPIFFE ID
  uint32_t hops = 0;   // the hop count the caller's sidecar sent
};

class InFlightRegistry {
 public:
  // Registers `request` until the returned handle (and every copy of it) is released. The registry must
  // outlive the handles (the role owns it; requests end before the engine returns).
  std::shared_ptr<void> enter(InFlightRequest request);

  // The most recent in-flight request of trace `trace_id`.
  std::optional<InFlightRequest> find_trace(const telemetry::TraceId& trace_id) const;

  // What an orphan call sees: how many inbound requests are in flight and the most recent of them.
  struct OrphanView {
    std::size_t in_flight = 0;
    std::optional<InFlightRequest> most_recent;
  };
  OrphanView orphan_view() const;

  std::size_t size() const;

 private:
  struct Entry {
    uint64_t sequence;
    InFlightRequest request;
  };
  void leave(uint64_t sequence);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // in order of arrival
  uint64_t next_sequence_ = 1;
};

}  // namespace tollway::sidecar
