#include "control/watch_api.h"

#include <cctype>
#include <charconv>

#include "advise/advice.h"
#include "advise/advice_report.h"
#include "control/api_response.h"
#include "control/leases/budgets_view.h"
#include "control/policy_api.h"
#include "control/traces/trace_queries.h"
#include "control/ui_assets.h"
#include "core/strict_json.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/version.h"

namespace tollway::control {
namespace {

namespace asio = boost::asio;
using proxy::AdminResponse;

// A build (tollway version) as nodes report it: 1 to 64 of [A-Za-z0-9.+_-].
bool valid_build(std::string_view build) {
  if (build.empty() || build.size() > 64) return false;
  for (char c : build)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+' && c != '_' && c != '-') return false;
  return true;
}

// A version as nodes report it: 1 to 64 lowercase hex digits.
bool valid_version(std::string_view version) {
  if (version.empty() || version.size() > 64) return false;
  for (char c : version)
    if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) return false;
  return true;
}

// A certificate's validity as a node says it (Unix seconds); nullopt when it is not one: not_before before
// not_after, both after 2000 and before 2^40.
std::optional<CertificatePeriod> certificate_period(int64_t not_before, int64_t not_after) {
  constexpr int64_t kYear2000 = 946'684'800, kFar = int64_t{1} << 40;
  if (not_before < kYear2000 || not_after <= not_before || not_after > kFar) return std::nullopt;
  return CertificatePeriod{Clock::time_point(std::chrono::seconds(not_before)),
                           Clock::time_point(std::chrono::seconds(not_after))};
}

std::optional<int64_t> integer_text(const std::optional<std::string>& text) {
  int64_t value = 0;
  if (!text || text->empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

constexpr std::string_view kProcessFieldsError =
    "cpu_ms and rss_bytes go together: the node process's CPU time in milliseconds and its resident bytes";

constexpr std::string_view kResponseCountsError =
    "requests, errors and denials go together: the responses the node answered since it applied the version it has, "
    "its 5xx and its 401/403/429 among them (whole numbers, errors + denials <= requests)";

constexpr std::string_view kCertificateFieldsError =
    "cert_not_before and cert_not_after go together: Unix seconds of the node certificate's validity";

}  // namespace

WatchApi::WatchApi(asio::io_context& context, std::string admin_token, std::chrono::milliseconds poll_timeout,
                   std::chrono::milliseconds drift_after)
    : context_(context),
      admin_token_(std::move(admin_token)),
      poll_timeout_(poll_timeout),
      fleet_(poll_timeout, drift_after) {}

void WatchApi::publish(const CheckedPolicy& policy, std::string revision) {
  fleet_.publish(policy);
  revision_ = std::move(revision);
  policy_errors_.clear();
  for (auto* timer : waiting_) timer->cancel();
}

void WatchApi::refuse(std::vector<std::string> errors) {
  policy_errors_ = std::move(errors);
}

void WatchApi::stop() {
  stopped_ = true;
  for (auto* timer : waiting_) timer->cancel();
}

asio::awaitable<AdminResponse> WatchApi::handle(const proxy::AdminRequest& request) {
  const std::string_view path = request.path;
  if (path == "/v1/snapshot") {
    if (request.method != "GET") co_return error_response(405, "method_not_allowed", "use GET /v1/snapshot");
    co_return co_await snapshot(request);
  }
  if (path == "/v1/ack") {
    if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST /v1/ack");
    co_return ack(request);
  }
  if (path == "/v1/report") {
    if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST /v1/report");
    co_return report(request);
  }
  if (path == "/v1/usage" && usage_ != nullptr) {
    if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST /v1/usage");
    if (!role_.empty() && role_ != "writer")
      co_return error_response(503, "not_the_writer",
                               "this control plane is the " + role_ + "; leased budgets are aggregated by the writer" +
                                   (writer_.empty() ? " (none elected yet)" : ", " + writer_));
    co_return co_await usage_->usage(request, leases::unix_ms_now());
  }
  if (path == "/metrics") {
    if (request.method != "GET" && request.method != "HEAD")
      co_return error_response(405, "method_not_allowed", "use GET /metrics");
    std::string body;
    core::prometheus::family(body, "tollway_build_info", "gauge", "The running tollway version.");
    core::prometheus::sample(body, "tollway_build_info", core::prometheus::labels({{"version", kVersion}}), 1);
    fleet_.render_metrics(body, Clock::now());
    node_auth_.render_metrics(body);
    if (handshake_refusals_ != nullptr) {
      core::prometheus::family(body, "tollway_tls_handshake_failures_total", "counter",
                               "TLS handshakes of the control plane's HTTPS listener that failed, by reason (a client "
                               "certificate of another CA, expired or not yet valid, ...).");
      for (const tls::HandshakeRefusal reason : tls::kAllHandshakeRefusals)
        core::prometheus::sample(body, "tollway_tls_handshake_failures_total",
                                 core::prometheus::labels({{"listener", "control"}, {"reason", tls::refusal_name(reason)}}),
                                 handshake_refusals_->count(reason));
    }
    if (usage_ != nullptr) usage_->render_metrics(body, leases::unix_ms_now());
    if (certs_ != nullptr) certs_->render_metrics(body);
    if (rollout_ != nullptr) rollout_->render_metrics(body, Clock::now());
    if (traces_ != nullptr) traces_->render_metrics(body);
    co_return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body), {}};
  }
  if (path == "/v1/fleet") {
    if (request.method != "GET") co_return error_response(405, "method_not_allowed", "use GET /v1/fleet");
    co_return fleet_status(request);
  }
  if (path == "/v1/budgets" || path == "/v1/alerts") {
    if (request.method != "GET") co_return error_response(405, "method_not_allowed", "use GET " + std::string(path));
    if (!admin_authorized(request, admin_token_))
      co_return error_response(401, "unauthorized", "GET " + std::string(path) + " needs the admin token (Authorization: Bearer)");
    std::string body = "{\"budgets\":[]}";  // no lease book: no leased budget
    if (path == "/v1/alerts") body = "{\"alerts\":" + alerts_.firing_json() + "}";
    else if (usage_ != nullptr)
      body = leases::budgets_view_json(usage_->book(), usage_->spend_series(), leases::unix_ms_now());
    co_return AdminResponse{200, "application/json", std::move(body) + "\n", {}};
  }
  if (path == "/v1/advice") {
    if (request.method != "GET") co_return error_response(405, "method_not_allowed", "use GET /v1/advice");
    if (!admin_authorized(request, admin_token_))
      co_return error_response(401, "unauthorized", "GET /v1/advice needs the admin token (Authorization: Bearer)");
    co_return advice(request);
  }
  if (PolicyApi::serves(path) && policy_ != nullptr) {
    if (!admin_authorized(request, admin_token_))
      co_return error_response(401, "unauthorized",
                               std::string(path) + " needs the admin token (Authorization: Bearer)");
    co_return co_await policy_->handle(request);
  }
  if (traces::TraceApi::serves(path)) {
    if (traces_ == nullptr)
      co_return error_response(404, "traces_off", "the trace window is off (tollway control --trace-window-spans 0)");
    if (path == "/v1/traces" && request.method == "POST") co_return traces_->receive(request);
    if (request.method != "GET")
      co_return error_response(405, "method_not_allowed",
                               "use POST /v1/traces to send spans, GET /v1/traces or GET /v1/traces/ID to read them");
    if (!admin_authorized(request, admin_token_))
      co_return error_response(401, "unauthorized",
                               std::string(path) + " needs the admin token (Authorization: Bearer)");
    co_return traces_->query(request);
  }
  if (is_ui_path(path)) {
    if (request.method != "GET" && request.method != "HEAD")
      co_return error_response(405, "method_not_allowed", "use GET /ui");
    co_return ui_response(path);
  }
  if (path == "/v1/certs" || path == "/v1/bundle") {
    if (!certs_)
      co_return error_response(404, "ca_off",
                               "the certificate authority is off: start tollway control with --trust-domain");
    if (path == "/v1/certs") {
      if (request.method != "POST") co_return error_response(405, "method_not_allowed", "use POST /v1/certs");
      co_return certs_->certs(request);
    }
    if (request.method != "GET" && request.method != "HEAD")
      co_return error_response(405, "method_not_allowed", "use GET /v1/bundle");
    co_return certs_->bundle(request);
  }
  if (path == "/healthz") co_return AdminResponse{200, "text/plain", "ok\n", {}};
  if (path == "/readyz") {
    if (revision_.empty())
      co_return AdminResponse{
          503, "text/plain", "no policy published yet" + (store_error_.empty() ? "" : ": " + store_error_) + "\n", {}};
    if (!store_error_.empty())
      co_return AdminResponse{503, "text/plain",
                              "degraded: " + store_error_ + "; serving revision " + revision_ + "\n", {}};
    if (!role_.empty())
      co_return AdminResponse{200, "text/plain",
                              "ready: " + role_ + (role_ == "writer" || writer_.empty() ? "" : " (writer " + writer_ + ")") + "\n", {}};
    co_return AdminResponse{200, "text/plain", "ready\n", {}};
  }
  co_return error_response(404, "not_found",
                           "the control plane serves GET /v1/snapshot, POST /v1/ack, POST /v1/report, GET /v1/fleet, "
                           "GET /v1/history, GET /v1/history/diff, POST /v1/rollback, POST /v1/usage, GET /v1/budgets, "
                           "GET /v1/alerts, GET /v1/advice, POST /v1/certs, GET /v1/bundle, POST /v1/traces, GET /v1/traces, "
                           "GET /v1/traces/ID, "
                           "/metrics, /healthz, /readyz and the dashboard at /ui");
}

AlertBook::Changes WatchApi::update_alerts(Clock::time_point now) {
  static const std::map<std::string, leases::BudgetKeyState, std::less<>> kNoBudgets;
  return alerts_.update(alert_conditions(fleet_, usage_ != nullptr ? usage_->book().keys() : kNoBudgets, now), now);
}

AdminResponse WatchApi::snapshot_response(std::string_view node) {
  const NodeRecord* record = fleet_.find(node);
  const std::string nonce = fleet_.issue(node, Clock::now());
  json::ObjectWriter w;
  w.field("version", record->desired_version)
      .field("revision", rollout_ ? rollout_->revision_for(node, revision_) : revision_)
      .field("nonce", nonce)
      .field("document", record->desired_document);
  return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

asio::awaitable<AdminResponse> WatchApi::snapshot(const proxy::AdminRequest& request) {
  const auto node = query_param(request.query, "node");
  if (!node || node->empty()) co_return error_response(400, "missing_node", "GET /v1/snapshot needs ?node=ID");
  if (const NodeAuth::Verdict auth = node_auth_.authenticate(request, *node); !auth.ok)
    co_return NodeAuth::refusal(auth);
  const std::string have = query_param(request.query, "have").value_or("");
  const std::string build = query_param(request.query, "build").value_or("");
  if (!build.empty() && !valid_build(build))
    co_return error_response(400, "invalid_build", "build must be 1 to 64 of [A-Za-z0-9.+_-] (a tollway version)");
  const auto not_before = query_param(request.query, "cert_not_before");
  const auto not_after = query_param(request.query, "cert_not_after");
  std::optional<CertificatePeriod> certificate;
  if (not_before || not_after) {
    const auto from = integer_text(not_before), to = integer_text(not_after);
    if (from && to) certificate = certificate_period(*from, *to);
    if (!certificate) co_return error_response(400, "invalid_certificate", std::string(kCertificateFieldsError));
  }
  const auto cpu_ms = query_param(request.query, "cpu_ms");
  const auto rss_bytes = query_param(request.query, "rss_bytes");
  std::optional<ProcessSample> process;
  if (cpu_ms || rss_bytes) {
    const auto cpu = integer_text(cpu_ms), rss = integer_text(rss_bytes);
    if (!cpu || !rss || *cpu < 0 || *rss < 0) co_return error_response(400, "invalid_process_usage", std::string(kProcessFieldsError));
    process = ProcessSample{static_cast<double>(*cpu) / 1000.0, static_cast<uint64_t>(*rss), Clock::now()};
  }
  const auto requests = query_param(request.query, "requests");
  const auto errors = query_param(request.query, "errors");
  const auto denials = query_param(request.query, "denials");
  std::optional<rollout::Counts> counts;
  if (requests || errors || denials) {
    const auto r = integer_text(requests), e = integer_text(errors), d = integer_text(denials);
    if (!r || !e || !d || *r < 0 || *e < 0 || *d < 0 || *e + *d > *r)
      co_return error_response(400, "invalid_response_counts", std::string(kResponseCountsError));
    counts = rollout::Counts{static_cast<uint64_t>(*r), static_cast<uint64_t>(*e), static_cast<uint64_t>(*d)};
  }
  fleet_.poll_started(*node, have, build, Clock::now());
  if (certificate) fleet_.certificate(*node, *certificate);
  if (process) fleet_.process_usage(*node, *process);
  if (counts && rollout_ && !have.empty()) rollout_->report(*node, have, *counts);
  const auto started = std::chrono::steady_clock::now();
  asio::steady_timer timer(context_);
  AdminResponse response{304, "application/json", "", {}};
  while (!stopped_) {
    // The node may have been removed by a publish while it waited.
    if (!fleet_.find(*node)) {
      response = error_response(401, "unauthorized", "node " + *node + " is no longer declared");
      break;
    }
    if (fleet_.should_send(*node, have)) {
      response = snapshot_response(*node);
      break;
    }
    // While a canary is judged every node reports its counts at least every kCanaryReportInterval.
    const bool judging = rollout_ && rollout_->judging();
    const auto deadline = started + (judging ? std::min(poll_timeout_, rollout::kCanaryReportInterval) : poll_timeout_);
    if (std::chrono::steady_clock::now() >= deadline) break;
    timer.expires_at(deadline);
    const auto place = waiting_.insert(waiting_.end(), &timer);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    waiting_.erase(place);
  }
  fleet_.poll_ended(*node, Clock::now());
  co_return response;
}

AdminResponse WatchApi::ack(const proxy::AdminRequest& request) {
  std::string parse_error;
  const auto body = core::strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    return error_response(400, "invalid_json",
                          "the body must be a JSON object {node, version, nonce, error?}" +
                              (parse_error.empty() ? std::string() : ": " + parse_error));
  for (const auto& [key, value] : body->members()) {
    if (key != "node" && key != "version" && key != "nonce" && key != "error")
      return error_response(400, "unknown_field",
                            "unknown field \"" + key + "\" (allowed: node, version, nonce, error)");
    if (!value.is_string())
      return error_response(400, "invalid_field", "field \"" + key + "\" must be a string");
  }
  const auto node = body->string_member("node");
  const auto version = body->string_member("version");
  const auto nonce = body->string_member("nonce");
  if (!node || !version || !nonce)
    return error_response(400, "missing_field", "node, version and nonce are required");
  if (const NodeAuth::Verdict auth = node_auth_.authenticate(request, *node); !auth.ok)
    return NodeAuth::refusal(auth);
  std::optional<std::string> error;
  if (const auto e = body->string_member("error")) error = std::string(*e);
  const std::string problem = fleet_.acknowledge(*node, *version, *nonce, error, Clock::now());
  if (!problem.empty()) return error_response(400, "invalid_ack", problem);
  std::string history_error;
  if (error && policy_ != nullptr && !policy_->record_nack({utc_now_text(), std::string(*node), std::string(*version), *error}, history_error))
    log::error("NACK not recorded in the history", json::ObjectWriter().field("node", *node).field("error", history_error));
  return AdminResponse{200, "application/json", "{\"recorded\":true}\n", {}};
}

AdminResponse WatchApi::report(const proxy::AdminRequest& request) {
  std::string parse_error;
  const auto body = core::strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    return error_response(400, "invalid_json",
                          "the body must be a JSON object {node, version, config_version?, build?, cert_not_before?, "
                          "cert_not_after?}" +
                              (parse_error.empty() ? std::string() : ": " + parse_error));
  for (const auto& [key, value] : body->members()) {
    const bool certificate_field = key == "cert_not_before" || key == "cert_not_after";
    if (key != "node" && key != "version" && key != "config_version" && key != "build" && !certificate_field)
      return error_response(400, "unknown_field",
                            "unknown field \"" + key +
                                "\" (allowed: node, version, config_version, build, cert_not_before, cert_not_after)");
    if (certificate_field ? !value.is_integer() : !value.is_string())
      return error_response(400, "invalid_field",
                            "field \"" + key + "\" must be " + (certificate_field ? "an integer" : "a string"));
  }
  std::optional<CertificatePeriod> certificate;
  const auto* not_before = body->find("cert_not_before");
  const auto* not_after = body->find("cert_not_after");
  if (not_before || not_after) {
    if (not_before && not_after) certificate = certificate_period(not_before->as_int(), not_after->as_int());
    if (!certificate) return error_response(400, "invalid_certificate", std::string(kCertificateFieldsError));
  }
  const auto node = body->string_member("node");
  const auto version = body->string_member("version");
  if (!node || !version) return error_response(400, "missing_field", "node and version are required");
  if (const NodeAuth::Verdict auth = node_auth_.authenticate(request, *node); !auth.ok)
    return NodeAuth::refusal(auth);
  const std::string_view config_version = body->string_member("config_version").value_or("");
  const std::string_view build = body->string_member("build").value_or("");
  if (!valid_version(*version) || (!config_version.empty() && !valid_version(config_version)))
    return error_response(400, "invalid_version", "version and config_version must be 1 to 64 lowercase hex digits");
  if (!build.empty() && !valid_build(build))
    return error_response(400, "invalid_build", "build must be 1 to 64 of [A-Za-z0-9.+_-] (a tollway version)");
  fleet_.report(*node, *version, config_version, build, Clock::now());
  if (certificate) fleet_.certificate(*node, *certificate);
  const NodeRecord* record = fleet_.find(*node);
  json::ObjectWriter w;
  w.field("recorded", true).field("match", Fleet::matches_policy(*record) ? "MATCHES" : "DRIFTED");
  return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

AdminResponse WatchApi::advice(const proxy::AdminRequest& request) const {
  const auto asked = list_limit(request, 200, 1000);
  if (!asked) return list_limit_error(1000);
  const auto limit = static_cast<std::size_t>(*asked);
  advise::ApiAnswers answers;
  answers.fleet = fleet_status(request).body;
  answers.budgets = usage_ != nullptr ? leases::budgets_view_json(usage_->book(), usage_->spend_series(), leases::unix_ms_now())
                                      : std::string("{\"budgets\":[]}");
  if (policy_ != nullptr) {
    answers.history = policy_->history().body;
    answers.nacks = policy_->nacks(100).body;
  } else {
    answers.gaps.push_back("/v1/history: the policy history is not served by this control plane");
  }
  if (traces_ != nullptr) {
    answers.trace_list = traces::trace_list_json(traces_->window(), limit);
    for (const traces::WindowTrace* trace : traces_->window().newest(limit)) answers.traces.push_back(traces::trace_json(*trace));
  } else {
    answers.gaps.push_back("/v1/traces: the trace window is off (--trace-window-spans 0)");
  }
  const advise::Advice advice = advise::advise({}, advise::measure_fleet(answers), "this control plane");
  return AdminResponse{200, "application/json", advise::advice_json(advice) + "\n", {}};
}

AdminResponse WatchApi::fleet_status(const proxy::AdminRequest& request) const {
  if (!admin_authorized(request, admin_token_))
    return error_response(401, "unauthorized", "GET /v1/fleet needs the admin token (Authorization: Bearer)");
  json::ObjectWriter w;
  if (revision_.empty()) w.null_field("revision");
  else w.field("revision", revision_);
  w.field("build", kVersion);
  std::string joined;
  std::string list = "[";
  for (const auto& e : policy_errors_) {
    joined += (joined.empty() ? "" : "\n") + e;
    if (list.size() > 1) list += ",";
    list += json::quoted(e);
  }
  if (joined.empty()) w.null_field("policy_error");
  else w.field("policy_error", joined);
  w.raw_field("policy_errors", list + "]");
  if (store_error_.empty()) w.null_field("store_error");
  else w.field("store_error", store_error_);
  if (role_.empty()) w.null_field("role");
  else w.field("role", role_);
  if (writer_.empty()) w.null_field("writer");
  else w.field("writer", writer_);
  w.raw_field("nodes", fleet_.nodes_json(Clock::now()));
  if (rollout_ != nullptr) w.raw_field("rollout", rollout_->status_json(Clock::now()));
  if (usage_ != nullptr) w.raw_field("budgets", usage_->budgets_json(leases::unix_ms_now()));
  return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

}  // namespace tollway::control
