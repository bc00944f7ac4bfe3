// HopTrace: a span per sidecar hop and runaway protection. Authenticate phase (first in the chain, so a
// refused call is traced too): continues the W3C trace context (inbound: the caller sidecar's, which is
// mTLS-verified and so trusted; outbound: the local agent's), fixes this hop's span (SERVER inbound, CLIENT
// outbound), counts and logs orphan calls (an outbound call without trace context while inbound requests are
// in flight) and, with `orphans: repair` and exactly one in flight, continues that request's trace. Authorize
// phase: refuses an inbound call past `max_hops` (508), and with `fanout.secret` a call whose tollway-fanout
// baggage member is forged, malformed or expired (403) or whose tree an upstream reported spent (429);
// registers an admitted inbound call as in flight until it ends. shape_upstream: sends this hop's
// traceparent, and the hop count to a peer (never the agent's own). Log phase: queues the span. It never
// forwards a hop count or trace parent the agent made up, never guesses a parent among several in-flight
// requests, and never re-signs or edits baggage.
#pragma once

#include <memory>

#include "pipeline/filter.h"
#include "sidecar/config.h"
#include "sidecar/hop_runtime.h"
#include "telemetry/sampler.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// The header sidecars carry the hop count in; whatever the agent sends under it is replaced or dropped.
inline constexpr std::string_view kHopsHeader = "x-tollway-hops";

class HopTrace final : public pipeline::Filter {
 public:
  // `runtime` is process-lifetime (owned by the role).
  HopTrace(std::shared_ptr<const SidecarConfig> config, HopRuntime& runtime);
  std::string_view name() const override { return "hop_trace"; }
  asio::awaitable<pipeline::Verdict> authenticate(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                   const http::ResponseHead& head) override;
  void on_held_response(pipeline::RequestCtx& ctx, pipeline::Reply& reply) override;
  void log(const pipeline::RequestCtx& ctx) override;

 private:
  // The hop's span from the request's own traceparent (trusted: a verified sidecar or the local agent); false
  // when it carries no valid one.
  bool continue_trace(pipeline::RequestCtx& ctx) const;
  void start_root(pipeline::RequestCtx& ctx) const;
  pipeline::Verdict check_fanout(pipeline::RequestCtx& ctx) const;
  pipeline::Verdict authorize_inbound(pipeline::RequestCtx& ctx) const;
  void trace_outbound(pipeline::RequestCtx& ctx) const;

  std::shared_ptr<const SidecarConfig> config_;
  HopRuntime& runtime_;
  telemetry::ParentBasedRatioSampler sampler_;
};

}  // namespace tollway::sidecar
