#include "control/traces/trace_api.h"

#include <openssl/crypto.h>


#include "control/api_response.h"
#include "control/traces/trace_queries.h"
#include "core/json.h"
#include "core/prometheus_text.h"
#include "telemetry/otlp_http.h"

namespace tollway::control::traces {
namespace {

constexpr int64_t kDefaultListLimit = 100;
constexpr int64_t kMaxListLimit = 1000;

// google.rpc.Status codes an OTLP/HTTP error body carries.
constexpr int kInvalidArgument = 3;
constexpr int kUnauthenticated = 16;

// The media type of a Content-Type value, lowercase, without parameters.
std::string media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::string out(value);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

bool same_token(std::string_view a, std::string_view b) {
  return !b.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

proxy::AdminResponse TraceApi::refuse(int status, std::string_view reason, std::string_view message) {
  ++refused_[std::string(reason)];
  // OTLP/HTTP: an error answer's body is a google.rpc.Status.
  json::ObjectWriter w;
  w.field("code", status == 401 ? kUnauthenticated : kInvalidArgument).field("message", message);
  proxy::AdminResponse r{status, "application/json", std::move(w).finish() + "\n", {}};
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

proxy::AdminResponse TraceApi::receive(const proxy::AdminRequest& request) {
  const bool authenticated = auth_.unauthenticated || request.peer_certificate != nullptr ||
                             same_token(bearer_token(request), auth_.token);
  if (!authenticated)
    return refuse(401, "unauthorized",
                  "POST /v1/traces needs a client certificate of the trust domain, or Authorization: Bearer with the "
                  "trace token (--trace-token-file); or start the control plane with --traces-unauthenticated");
  const auto type = request.head ? request.head->find("content-type") : std::nullopt;
  const std::string media = type ? media_type(*type) : std::string();
  if (media != "application/json")
    return refuse(415, "unsupported_media_type",
                  media == "application/x-protobuf"
                      ? "this receiver accepts only OTLP/HTTP JSON (Content-Type: application/json), not protobuf: "
                        "set the exporter's encoding to json (OpenTelemetry Collector otlphttp: encoding: json)"
                      : "this receiver accepts only OTLP/HTTP JSON: send Content-Type: application/json");
  const auto encoding = request.head->find("content-encoding");
  const std::string coding = encoding ? media_type(*encoding) : std::string();
  std::string inflated;
  std::string_view body = request.body;
  if (coding == "gzip") {
    std::string error;
    auto data = telemetry::gzip_decompress(request.body, kMaxOtlpJsonBytes, error);
    if (!data) return refuse(400, "invalid_encoding", error);
    inflated = std::move(*data);
    body = inflated;
  } else if (!coding.empty() && coding != "identity") {
    return refuse(415, "unsupported_encoding", "Content-Encoding must be gzip or identity");
  }
  std::string error;
  auto spans = read_otlp_traces(body, error);
  if (!spans) return refuse(400, "invalid_request", "nothing stored from this request: " + error);
  const TraceWindow::Added added = window_.add(std::move(*spans));
  if (added.rejected == 0) return proxy::AdminResponse{200, "application/json", "{}\n", {}};
  json::ObjectWriter partial;
  partial.field("rejectedSpans", std::to_string(added.rejected))
      .field("errorMessage", std::to_string(added.rejected) + " spans refused: their trace already holds the "
                                                               "window's whole bound of " +
                                 std::to_string(window_.max_spans()) + " spans");
  json::ObjectWriter w;
  w.raw_field("partialSuccess", std::move(partial).finish());
  return proxy::AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

proxy::AdminResponse TraceApi::query(const proxy::AdminRequest& request) const {
  if (request.path == "/v1/traces") {
    const auto limit = list_limit(request, kDefaultListLimit, kMaxListLimit);
    if (!limit) return list_limit_error(kMaxListLimit);
    return proxy::AdminResponse{200, "application/json",
                                trace_list_json(window_, static_cast<std::size_t>(*limit)) + "\n", {}};
  }
  std::string id(request.path.substr(std::string_view("/v1/traces/").size()));
  for (char& c : id) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  const auto trace_id = telemetry::TraceId::from_hex(id);
  if (!trace_id)
    return error_response(400, "invalid_trace_id", "a trace id is 32 hex digits, not all zero: GET /v1/traces/ID");
  const WindowTrace* trace = window_.find(*trace_id);
  if (trace == nullptr)
    return error_response(404, "trace_not_found",
                          "trace " + id + " is not in the window (never received, or evicted since)");
  return proxy::AdminResponse{200, "application/json", trace_json(*trace) + "\n", {}};
}

void TraceApi::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  const auto& totals = window_.totals();
  prometheus::family(out, "tollway_control_trace_spans_total", "counter",
                     "Spans POST /v1/traces received, by outcome: accepted into the trace window, duplicate (already "
                     "held), rejected (their trace held the whole bound), evicted (whole traces, oldest first).");
  const std::pair<const char*, uint64_t> outcomes[] = {{"accepted", totals.accepted},
                                                       {"duplicate", totals.duplicate},
                                                       {"rejected", totals.rejected},
                                                       {"evicted", totals.evicted}};
  for (const auto& [outcome, n] : outcomes)
    prometheus::sample(out, "tollway_control_trace_spans_total", prometheus::labels({{"outcome", outcome}}), n);
  prometheus::family(out, "tollway_control_trace_requests_refused_total", "counter",
                     "POST /v1/traces requests refused whole, by reason.");
  for (const char* reason : {"unauthorized", "unsupported_media_type", "unsupported_encoding", "invalid_encoding",
                             "invalid_request"}) {
    const auto found = refused_.find(reason);
    prometheus::sample(out, "tollway_control_trace_requests_refused_total", prometheus::labels({{"reason", reason}}),
                       found == refused_.end() ? 0 : found->second);
  }
  prometheus::family(out, "tollway_control_trace_spans_held", "gauge",
                     "Spans in the trace window now (at most tollway_control_trace_window_max_spans).");
  prometheus::sample(out, "tollway_control_trace_spans_held", "", window_.spans_held());
  prometheus::family(out, "tollway_control_trace_traces_held", "gauge", "Traces in the trace window now.");
  prometheus::sample(out, "tollway_control_trace_traces_held", "", window_.traces_held());
  prometheus::family(out, "tollway_control_trace_window_max_spans", "gauge",
                     "The trace window's bound (--trace-window-spans).");
  prometheus::sample(out, "tollway_control_trace_window_max_spans", "", window_.max_spans());
}

}  // namespace tollway::control::traces
