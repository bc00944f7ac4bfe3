// WatchApi: the control plane's HTTP API, served by the engine's AdminListener on the control thread —
// GET /v1/snapshot (a node long-polls for its desired snapshot, authenticated by NodeAuth: its certificate, or its
// bootstrap token), POST /v1/ack (the node
// reports the version it applied, or why it refused one), POST /v1/report (a node that runs its own file reports
// what it runs), GET /v1/fleet (every node's state, with the admin token), GET /metrics (the fleet's gauges), and
// POST /v1/certs and GET /v1/bundle through the CertApi when the CA is on (404 "the CA is off" otherwise),
// /v1/history, /v1/history/diff and /v1/rollback through the PolicyApi (with the admin token, checked here), GET
// /v1/budgets (leased budgets with their leases and last hour of spend) and GET /v1/alerts (the alerts the control
// plane sees in its own state) with the admin token, POST /v1/traces (spans, authenticated by the TraceApi) and
// GET /v1/traces[/ID] (with the admin token) through the TraceApi when the trace window is on (404 otherwise), and
// the web dashboard's files under /ui (UiAssets; the page sends the admin token on its own API calls). Polls may
// carry the node's response counts (requests, errors, denials since it applied `have`), handed to the staged
// rollout, which /v1/fleet ("rollout") and /metrics show. A
// waiting poll costs a coroutine frame and a timer: no thread. It never answers a node with another node's
// document, never sends anything to a node that reports, never publishes (publish() is handed a policy that
// passed the whole check) and never logs a token.
#pragma once

#include <boost/asio.hpp>

#include <list>
#include <string>
#include <vector>

#include "control/alerts/alert_book.h"
#include "control/cert_api.h"
#include "control/fleet.h"
#include "control/node_auth.h"
#include "control/leases/usage_api.h"
#include "control/policy_api.h"
#include "control/rollout/rollout_coordinator.h"
#include "control/traces/trace_api.h"
#include "proxy/admin_listener.h"

namespace tollway::control {

class WatchApi {
 public:
  WatchApi(boost::asio::io_context& context, std::string admin_token, std::chrono::milliseconds poll_timeout,
           std::chrono::milliseconds drift_after);

  // Makes `policy` the published revision ("COUNTER-HASH") and wakes the waiting polls.
  void publish(const CheckedPolicy& policy, std::string revision);
  // A policy change that failed the check: the published revision stays, the errors show in /v1/fleet.
  void refuse(std::vector<std::string> errors);
  // Why the policy store cannot be read now ("" = it can): /readyz answers 503 "degraded" with it while the
  // published revision serves on, and /v1/fleet shows it as store_error.
  void set_store_error(std::string error) { store_error_ = std::move(error); }
  const std::string& store_error() const { return store_error_; }
  // With two or more control planes on one etcd: this plane's role ("writer", "follower" or "candidate"; "" = no
  // election, the directory store) and the writer's URL. /readyz and /v1/fleet say them; a plane that is not the
  // writer answers POST /v1/usage with 503 naming the writer (the writer owns the leased budgets' aggregation).
  void set_role(std::string role, std::string writer) {
    role_ = std::move(role);
    writer_ = std::move(writer);
  }
  // Serves POST /v1/certs and GET /v1/bundle with `certs` (null: the CA is off). It must outlive this WatchApi.
  void set_cert_api(CertApi* certs) { certs_ = certs; }
  // Serves POST /v1/usage (leased budgets) with `usage`, whose budgets show in /v1/fleet and /metrics. It must
  // outlive this WatchApi.
  void set_usage_api(leases::UsageApi* usage) { usage_ = usage; }
  // Serves /v1/history, /v1/history/diff and /v1/rollback with `policy` to admin-token holders (null: 404 until
  // set). It must outlive this WatchApi.
  void set_policy_api(PolicyApi* policy) { policy_ = policy; }
  // Staged rollouts: polls carry the nodes' counts to `rollout`, are cut to kCanaryReportInterval while a canary
  // is judged, and /v1/fleet and /metrics show it. It must outlive this WatchApi.
  void set_rollout(rollout::RolloutCoordinator* rollout) { rollout_ = rollout; }
  // Serves /v1/traces with `traces` (null: the trace window is off, 404). It must outlive this WatchApi.
  void set_trace_api(traces::TraceApi* traces) { traces_ = traces; }
  // The HTTPS listener's failed handshakes (a client certificate of another CA, expired, ...), rendered on /metrics
  // as tollway_tls_handshake_failures_total{listener="control",reason}. It must outlive this WatchApi.
  void set_handshake_refusals(const proxy::HandshakeRefusals* refusals) { handshake_refusals_ = refusals; }
  // Ends every waiting poll (with 304) when the process drains.
  void stop();
  boost::asio::awaitable<proxy::AdminResponse> handle(const proxy::AdminRequest& request);

  const Fleet& fleet() const { return fleet_; }
  // Who may act as a node on GET /v1/snapshot, POST /v1/ack, /v1/report and /v1/usage.
  NodeAuth& node_auth() { return node_auth_; }
  // The nodes that crossed drift_after (either way) since the last call.
  std::vector<Fleet::DriftChange> update_drift(Clock::time_point now) { return fleet_.update_drift(now); }
  // Evaluates the alert rules on the fleet and the leased budgets at `now`; returns what started or stopped firing.
  AlertBook::Changes update_alerts(Clock::time_point now);

 private:
  boost::asio::awaitable<proxy::AdminResponse> snapshot(const proxy::AdminRequest& request);
  proxy::AdminResponse ack(const proxy::AdminRequest& request);
  proxy::AdminResponse report(const proxy::AdminRequest& request);
  proxy::AdminResponse fleet_status(const proxy::AdminRequest& request) const;
  // GET /v1/advice[?limit=N]: `tollway advise`'s measurement of this fleet (src/advise), from the same answers
  // /v1/fleet, /v1/budgets, /v1/history and /v1/traces[/ID] give, produced in process.
  proxy::AdminResponse advice(const proxy::AdminRequest& request) const;
  proxy::AdminResponse snapshot_response(std::string_view node);

  boost::asio::io_context& context_;
  std::string admin_token_;
  std::chrono::milliseconds poll_timeout_;
  Fleet fleet_;
  NodeAuth node_auth_{fleet_};
  std::string revision_;  // "" until the first publish
  std::vector<std::string> policy_errors_;
  std::string store_error_;
  std::string role_, writer_;
  std::list<boost::asio::steady_timer*> waiting_;
  CertApi* certs_ = nullptr;
  leases::UsageApi* usage_ = nullptr;
  PolicyApi* policy_ = nullptr;
  AlertBook alerts_;
  traces::TraceApi* traces_ = nullptr;
  rollout::RolloutCoordinator* rollout_ = nullptr;
  const proxy::HandshakeRefusals* handshake_refusals_ = nullptr;
  bool stopped_ = false;
};

}  // namespace tollway::control
