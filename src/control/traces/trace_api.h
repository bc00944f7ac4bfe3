// TraceApi: the control plane's trace endpoints (docs/control-plane.md, "Traces"). POST /v1/traces is an OTLP/HTTP
// receiver of JSON-encoded spans (application/json, identity or gzip; protobuf is answered 415), accepted from a
// client certificate the listener verified (a node's SVID), `Authorization: Bearer` with the trace token, or from
// anyone when the plane was started with --traces-unauthenticated; a request is added to the TraceWindow whole or
// not at all (400 with the bad field's path, as an OTLP Status), and answered {} or {"partialSuccess": ...}.
// GET /v1/traces and GET /v1/traces/{trace_id} read the window (TraceQueries) for the admin token's holder (checked
// by the WatchApi). /metrics: tollway_control_trace_spans_total{outcome}, the requests refused by reason and the
// spans and traces held. It never keeps more than the window's bound, never stores part of a refused request, and
// never logs a token or a span.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "control/traces/trace_window.h"
#include "proxy/admin_listener.h"

namespace tollway::control::traces {

struct TraceReceiverAuth {
  std::string token;             // "" = no bearer token is accepted
  bool unauthenticated = false;  // anyone who reaches the listener may send spans
};

class TraceApi {
 public:
  TraceApi(std::size_t max_spans, TraceReceiverAuth auth) : window_(max_spans), auth_(std::move(auth)) {}

  // /v1/traces and /v1/traces/...
  static bool serves(std::string_view path) { return path == "/v1/traces" || path.starts_with("/v1/traces/"); }
  // POST /v1/traces.
  proxy::AdminResponse receive(const proxy::AdminRequest& request);
  // GET /v1/traces[?limit=N] and GET /v1/traces/{trace_id}; the caller has checked the admin token.
  proxy::AdminResponse query(const proxy::AdminRequest& request) const;
  void render_metrics(std::string& out) const;

  const TraceWindow& window() const { return window_; }

 private:
  proxy::AdminResponse refuse(int status, std::string_view reason, std::string_view message);

  TraceWindow window_;
  TraceReceiverAuth auth_;
  std::map<std::string, uint64_t, std::less<>> refused_;  // requests, by reason
};

}  // namespace tollway::control::traces
