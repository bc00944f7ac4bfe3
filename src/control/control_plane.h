// ControlPlane: the `tollway control` process — takes the policy from its store (a directory, polled: a change
// counts once two polls agree; or etcd under a prefix, followed by its watch stream), checks every version whole,
// records each accepted one in the history (STATE_DIR/history.db: revision COUNTER-HASH, author, changes, files) and
// only then publishes it — on etcd, the elected writer records it (in etcd too, where every plane imports it) and
// a follower publishes a version only once the writer recorded it, and serves the WatchApi on an AdminListener until SIGTERM or SIGINT (with the PolicyApi:
// the history, diffs and, on etcd, rollback over HTTP; and the web dashboard at /ui). It never
// publishes a policy with an error (the published revision stays and the error shows in /v1/fleet), and never
// drops what it serves when its store is unreachable (it serves on, degraded, and says so in /readyz). Checks the
// fleet's drift every second and logs each node's crossing of drift_after once (not every poll); on the same beat
// it evaluates the alerts it can see (GET /v1/alerts) and samples the leased budgets' spend (GET /v1/budgets). With a
// trust domain it also runs the SPIFFE CA of STATE_DIR (ca/root.pem, ca/root.key) and serves POST /v1/certs (join
// tokens from STATE_DIR/identity.db) and GET /v1/bundle, follows the generated root's rotation schedule (`tollway
// control ca rotate`, in identity.db) on the same one-second beat — the bundle, the signing root and its own listener
// certificate change without a restart, and a retired root's key is deleted — and authenticates nodes by their
// certificates (NodeAuth); with tls it serves HTTPS with its own SVID
// (ControlListenerTls), renewed at half its lifetime. Keeps a bounded window of recent traces received over
// OTLP/HTTP (traces::TraceApi) unless --trace-window-spans is 0. A version whose policy has rollout.yaml (or whose
// etcd publish said --canary) is rolled out through the rollout::RolloutCoordinator: to its canary nodes first,
// judged on the same one-second beat, promoted or rolled back (state in the rollouts table of history.db).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "control/etcd/etcd_client.h"
#include "control/policy_check.h"
#include "limits/redis/connection.h"
#include "control/traces/trace_api.h"

namespace tollway::control {

struct ControlPlaneOptions {
  std::string policy_dir;   // the directory store, or
  std::string etcd_urls;    // the etcd store: http://HOST:PORT[,...]
  std::string etcd_prefix;  //   and the prefix the policy lives under
  etcd::EtcdTlsFiles etcd_tls;  // for https:// members
  // The etcd store's writer election: the writer lease's ttl (a dead writer is replaced within it) and the URL this
  // plane is reached at, written in the writer key ("" = http(s)://LISTEN ADDRESS).
  std::chrono::seconds writer_lease_ttl{10};
  std::string advertise_url;
  std::string author;       // a directory version's author when the directory is not a Git work tree
  std::string listen;       // HOST:PORT, port 0 = ephemeral
  std::string admin_token;
  std::string state_dir;  // "" = the history lives in memory and the revision counter starts at 1 each time
  std::chrono::milliseconds poll_timeout{30'000};
  std::chrono::milliseconds drift_after{300'000};  // STALE or ERROR longer than this: drifted (metric, log line)
  std::string trust_domain;                         // "" = the CA is off (needs state_dir when set)
  std::string ca_cert_file, ca_key_file;  // a supplied intermediate (--ca-cert/--ca-key); "" = a root in state_dir
  std::chrono::seconds svid_lifetime{24 * 3600};
  // A node whose SPIFFE identity this CA issued may still authenticate with its bootstrap token alone.
  bool accept_node_token_after_join = false;
  // HTTPS on the listener with an SVID of the control plane's own CA (needs trust_domain); client certificates
  // are requested, optional, and verified against the bundle (renewal over mTLS).
  bool tls = false;
  std::vector<std::string> tls_host_names{"localhost", "127.0.0.1"};  // the certificate's DNS and IP SANs
  // Leased budgets (POST /v1/usage): how often nodes report and renew, and how long a lease stays valid.
  std::chrono::milliseconds lease_sync_interval{1'000};
  std::chrono::milliseconds lease_ttl{10'000};
  // Where the leases' aggregates persist: this Redis server (--lease-store redis://…), else state_dir/leases.db.
  std::optional<limits::redis::RedisOptions> lease_redis;
  // The trace window (POST /v1/traces, GET /v1/traces): its bound in spans (0 = off) and who may send spans.
  std::size_t trace_window_spans = 10'000;
  traces::TraceReceiverAuth trace_receiver;
  CheckDocument check;
  ReadBudgets read_budgets;  // what POST /v1/usage checks a node's reports against
};

// Runs until drained; returns the exit code (1 when a directory policy is invalid at start, or an option, the
// history, the CA or the address is unusable).
int run_control_plane(const ControlPlaneOptions& options);

}  // namespace tollway::control
