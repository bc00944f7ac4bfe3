// `tollway control`: runs the control plane on a policy directory or on etcd; `tollway control status` prints the
// fleet. publish, rollback, history and diff are registered from control_publish_command.cc and
// control_history_command.cc; token create and certs from control_identity_command.cc.
#include <boost/asio.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/log_level.h"
#include "app/control_subcommands.h"
#include "app/node_document_check.h"
#include "app/token_file.h"
#include "core/strict_json.h"
#include "control/client/control_http.h"
#include "control/ca/certificate_authority.h"
#include "control/control_plane.h"
#include "core/log.h"
#include "core/units.h"
#include "limits/redis/redis_url.h"
#include "tls/client_context.h"

namespace tollway::app {
namespace {

// How long the control plane waits for Redis to connect and to answer one command of the lease store (a node's
// report waits for it before its answer).
constexpr int kLeaseStoreTimeoutMs = 1000;

std::string text_member(const core::strict_json::Value& v, std::string_view key) {
  const auto* m = v.find(key);
  return m && m->is_string() ? m->as_string() : "-";
}

std::string list_member(const core::strict_json::Value& v, std::string_view key) {
  std::string out;
  if (const auto* m = v.find(key); m && m->is_array())
    for (const auto& item : m->items()) out += (out.empty() ? "" : ",") + (item.is_string() ? item.as_string() : "?");
  return out.empty() ? "-" : out;
}

// "canary 52 requests, error 0.0%, deny 100.0%" from a rollout's {requests, error_rate, deny_rate}.
std::string rates_text(const core::strict_json::Value& rollout, std::string_view group) {
  const auto* g = rollout.find(group);
  if (!g || !g->is_object()) return "";
  const auto number = [&](std::string_view key) {
    const auto* m = g->find(key);
    return m && m->is_number() ? m->as_number() : 0.0;
  };
  char text[160];
  std::snprintf(text, sizeof text, "%s %.0f requests, error %.1f%%, deny %.1f%%", std::string(group).c_str(),
                number("requests"), number("error_rate") * 100, number("deny_rate") * 100);
  return text;
}

// The staged rollout of /v1/fleet: the canary in progress, or how the last one ended.
void print_rollout(const core::strict_json::Value& rollout) {
  const std::string phase = text_member(rollout, "phase");
  if (phase == "canary") {
    const auto* left = rollout.find("hold_left_s");
    std::cout << "rollout: " << text_member(rollout, "revision") << " in canary on " << list_member(rollout, "canary_nodes")
              << " (others keep " << text_member(rollout, "stable") << "); hold left "
              << (left && left->is_number() ? left->as_number() : 0.0) << "s\n"
              << "    " << rates_text(rollout, "canary") << "; " << rates_text(rollout, "baseline") << "\n";
    if (const std::string waiting = text_member(rollout, "waiting_for"); waiting != "-" && !waiting.empty())
      std::cout << "    " << waiting << "\n";
    return;
  }
  std::cout << "rollout: the canary of " << text_member(rollout, "revision") << " on "
            << list_member(rollout, "canary_nodes") << " was " << (phase == "rolled_back" ? "ROLLED BACK" : phase)
            << " at " << text_member(rollout, "ended_at") << ": " << text_member(rollout, "reason") << "\n";
}

int print_status(const std::string& url, const std::string& token, bool as_json, const std::string& ca_file) {
  boost::asio::io_context context(1);
  std::shared_ptr<boost::asio::ssl::context> tls;  // --ca-file: the control plane verified against it
  if (!ca_file.empty()) {
    std::optional<tls::ClientTlsError> error;
    tls = tls::make_client_context({ca_file, "", ""}, error);
    if (!tls) {
      std::cerr << "--ca-file: " << error->message << "\n";
      return 1;
    }
  }
  control::ControlReply result;
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  boost::asio::co_spawn(
      context,
      [&]() -> boost::asio::awaitable<void> {
        result = co_await control::control_request("GET", base + "/v1/fleet", token, {}, std::chrono::seconds(10),
                                                   16 << 20, tls);
      },
      boost::asio::detached);
  context.run();
  if (!result.ok) {
    std::cerr << "tollway control status: " << base << ": " << result.error << "\n";
    return 1;
  }
  if (result.status != 200) {
    std::cerr << "tollway control status: " << base << ": HTTP " << result.status << ": " << result.body;
    return 1;
  }
  if (as_json) {
    std::cout << result.body;
    return 0;
  }
  std::string error;
  core::strict_json::ParseLimits limits;
  limits.max_bytes = 16 << 20;
  limits.max_depth = 8;
  const auto fleet = core::strict_json::parse(result.body, error, limits);
  if (!fleet || !fleet->is_object()) {
    std::cerr << "tollway control status: not a fleet document: " << error << "\n";
    return 1;
  }
  std::cout << "revision " << text_member(*fleet, "revision") << " (control plane build "
            << text_member(*fleet, "build") << ")\n";
  if (const auto* r = fleet->find("role"); r && r->is_string()) {
    const auto* w = fleet->find("writer");
    std::cout << "role " << r->as_string()
              << (w && w->is_string() ? " (writer " + w->as_string() + ")" : std::string()) << "\n";
  }
  if (const auto* e = fleet->find("store_error"); e && e->is_string())
    std::cout << "degraded: " << e->as_string() << " (the revision above keeps serving)\n";
  if (const auto* e = fleet->find("policy_error"); e && e->is_string())
    std::cout << "policy error (the revision above stays published):\n" << e->as_string() << "\n";
  if (const auto* r = fleet->find("rollout"); r && r->is_object()) print_rollout(*r);
  std::cout << std::left << std::setw(20) << "NODE" << std::setw(20) << "STATE" << std::setw(14) << "DESIRED"
            << std::setw(14) << "APPLIED" << std::setw(12) << "BUILD" << std::setw(22) << "LAST ACK" << "LABELS\n";
  const auto* nodes = fleet->find("nodes");
  for (const auto& n : nodes && nodes->is_array() ? nodes->items() : std::vector<core::strict_json::Value>{}) {
    std::string labels;
    if (const auto* l = n.find("labels"); l && l->is_object())
      for (const auto& [k, v] : l->members()) labels += (labels.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.as_string() : "");
    // An unmanaged node runs its own file: its state says whether that matches the policy, its versions are
    // the content versions compared, its last report stands where an ACK would.
    const bool unmanaged = n.find("match") != nullptr;
    std::string state = text_member(n, "state");
    if (unmanaged) state += " " + text_member(n, "match");
    if (const auto* d = n.find("drifted"); d && d->is_bool() && d->as_bool()) state += " DRIFTED";
    std::cout << std::setw(20) << text_member(n, "id") << std::setw(20) << state << std::setw(14)
              << text_member(n, unmanaged ? "desired_content_version" : "desired_version") << std::setw(14)
              << text_member(n, unmanaged ? "reported_version" : "applied_version") << std::setw(12)
              << text_member(n, "build") << std::setw(22) << text_member(n, unmanaged ? "last_report" : "last_ack")
              << labels << "\n";
    if (const auto* e = n.find("error"); e && e->is_string()) std::cout << "    error: " << e->as_string() << "\n";
  }
  return 0;
}

}  // namespace

void add_control_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand(
      "control", "Run the control plane: a policy (a directory, or etcd) served to every gateway");
  cmd->footer(
      "The policy: DIR/*.yaml shared sections (top-level keys of the gateway config), DIR/groups/NAME.yaml node\n"
      "groups (selector + sections that replace shared ones), DIR/nodes.yaml the declared nodes, the sha256 of\n"
      "each bootstrap token and the SPIFFE ID (spiffe_id) of each node that holds an identity. With --etcd the same files live under PREFIX/ in etcd 3.4 (written by `tollway\n"
      "control publish`), read through etcd's v3 JSON gateway and polled by revision every 0.5 s. A change is\n"
      "checked whole and published only when every node's document is valid; each published version is recorded\n"
      "in STATE_DIR/history.db (`history`, `diff`, `rollback`). etcd unreachable: the last version keeps serving\n"
      "and /readyz answers 503 degraded. A node STALE or in ERROR longer than --drift-after is drifted (a gauge\n"
      "on /metrics and one log line). Gateways run from their own file may report what they run (`tollway\n"
      "gateway --report-to`): UNMANAGED, matching the policy or DRIFTED. API: GET /v1/snapshot, POST /v1/ack,\n"
      "POST /v1/report, GET /v1/fleet, GET /v1/history, GET /v1/history/diff?from=V1&to=V2, POST /v1/rollback\n"
      "(admin token; rollback for etcd only), GET /metrics; the web dashboard at /ui (asks for the admin token).\n"
      "With --trust-domain the control plane is also a SPIFFE CA (root in STATE_DIR/ca/): POST /v1/certs trades\n"
      "a CSR and a one-time join token (`tollway control token create`) for an X.509-SVID, or renews one over\n"
      "mTLS (the caller's current certificate, no token), GET /v1/bundle serves the trust bundle (PEM,\n"
      "?format=jwks); `tollway control certs` lists every token minted and certificate issued; `tollway control\n"
      "ca rotate` rotates the generated root while the control plane runs (prepared, active, old). --tls serves\n"
      "the API over HTTPS with the control plane's own SVID; a node declared with `spiffe_id` in nodes.yaml then\n"
      "authenticates by that certificate alone, and once its identity is issued its token alone is refused.\n"
      "Leased budgets: POST /v1/usage takes a node's use of each budget key and answers its next lease\n"
      "(STATE_DIR/leases.db, or Redis with --lease-store, keeps what was reported and granted). See\n"
      "docs/control-plane.md.");
  auto policy = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>("127.0.0.1:7070");
  auto admin_token_file = std::make_shared<std::string>();
  auto state_dir = std::make_shared<std::string>();
  auto poll_timeout = std::make_shared<std::string>("30s");
  auto drift_after = std::make_shared<std::string>("5m");
  auto log_level = std::make_shared<std::string>("info");
  auto etcd = std::make_shared<std::string>();
  auto prefix = std::make_shared<std::string>();
  auto author = std::make_shared<std::string>();
  auto trust_domain = std::make_shared<std::string>();
  auto ca_cert = std::make_shared<std::string>();
  auto ca_key = std::make_shared<std::string>();
  auto svid_lifetime = std::make_shared<std::string>("24h");
  auto lease_sync = std::make_shared<std::string>("1s");
  auto lease_ttl = std::make_shared<std::string>("10s");
  auto lease_store = std::make_shared<std::string>();
  auto writer_lease_ttl = std::make_shared<std::string>("10s");
  auto etcd_tls = std::make_shared<control::etcd::EtcdTlsFiles>();
  auto advertise = std::make_shared<std::string>();
  auto serve_tls = std::make_shared<bool>(false);
  auto accept_token_after_join = std::make_shared<bool>(false);
  auto trace_window_spans = std::make_shared<std::size_t>(10'000);
  auto trace_token_file = std::make_shared<std::string>();
  auto traces_unauthenticated = std::make_shared<bool>(false);
  auto tls_sans = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--policy", *policy, "The policy directory");
  cmd->add_option("--etcd", *etcd, "Or: etcd member URLs, http(s)://HOST:PORT[,...], holding the policy under --prefix");
  add_etcd_tls_options(*cmd, *etcd_tls);
  cmd->add_option("--prefix", *prefix, "The etcd key prefix of the policy, e.g. /tollway/policy");
  cmd->add_option("--author", *author,
                  "A directory version's author in the history when the directory is not in a Git work tree");
  cmd->add_option("--listen", *listen, "API listener IP:PORT (port 0 = ephemeral; default 127.0.0.1:7070)");
  cmd->add_option("--admin-token-file", *admin_token_file, "File holding the admin token (for GET /v1/fleet, the history API and /ui)");
  cmd->add_option("--state-dir", *state_dir,
                  "Where the history (history.db: every published version, its files and author) is kept, and "
                  "with --trust-domain the CA (ca/) and the join tokens (identity.db); without it the history lives "
                  "in memory");
  cmd->add_option("--poll-timeout", *poll_timeout, "How long a snapshot poll waits for a change (1s to 60s; default 30s)");
  cmd->add_option("--drift-after", *drift_after,
                  "A node STALE or in ERROR for longer than this counts as drifted: the /metrics gauges "
                  "tollway_control_nodes_drifted and tollway_control_node_drifted{node}, and one log line (1s to "
                  "168h; default 5m)");
  cmd->add_option("--trust-domain", *trust_domain,
                  "Run the SPIFFE certificate authority for this trust domain (needs --state-dir; its root is "
                  "generated there on first start): POST /v1/certs, GET /v1/bundle");
  cmd->add_option("--ca-cert", *ca_cert,
                  "Sign with a supplied intermediate instead of a generated root: its certificate, then its chain up "
                  "to and including the root (every self-signed certificate in the file goes into the trust bundle, "
                  "so a file holding the old root too keeps both trusted across a CA rotation); needs --ca-key and "
                  "--trust-domain");
  cmd->add_option("--ca-key", *ca_key, "The --ca-cert intermediate's private key (PEM, unencrypted)");
  cmd->add_option("--lease-sync-interval", *lease_sync,
                  "How often nodes report usage of leased budgets and renew their leases (100ms to 60s; default 1s)");
  cmd->add_option("--lease-ttl", *lease_ttl,
                  "How long a lease of a leased budget stays valid (twice the sync interval to 1h; default 10s)");
  cmd->add_option("--lease-store", *lease_store,
                  "Keep the leased budgets' aggregates (use per key and node, leases, report sequence numbers) in "
                  "this Redis server, redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], under the keys tollway:leases:*, "
                  "instead of STATE_DIR/leases.db. It must be reachable at start (else exit 1); a report it cannot "
                  "take while running is answered 503 store_unavailable and the node keeps its lease "
                  "(on_control_unreachable)");
  cmd->add_option("--writer-lease-ttl", *writer_lease_ttl,
                  "With --etcd: the ttl of the etcd lease behind the writer key. Of the control planes on one etcd "
                  "cluster, the one holding the key records the history and aggregates leased budgets; when it dies "
                  "or loses etcd, another takes over within this ttl (2s to 5m, whole seconds; default 10s)");
  cmd->add_option("--advertise", *advertise,
                  "With --etcd: the URL the other control planes and the nodes are told to reach this one at when it is "
                  "the writer (default http(s)://LISTEN ADDRESS)");
  cmd->add_option("--svid-lifetime", *svid_lifetime,
                  "How long an issued certificate is valid (at least 5m; default 24h)");
  cmd->add_flag("--tls", *serve_tls,
                "Serve HTTPS with a certificate the control plane issues itself from its CA (SPIFFE ID "
                "spiffe://TRUST_DOMAIN/tollway/control, files in STATE_DIR/tls/, renewed at half its life); client "
                "certificates are requested, optional, verified against the bundle (needs --trust-domain)");
  cmd->add_flag("--accept-node-token-after-join", *accept_token_after_join,
                "Compatibility: a node whose SPIFFE identity (nodes.yaml spiffe_id) this CA has issued may still "
                "authenticate with its bootstrap token alone. By default such a node authenticates with its "
                "certificate only (needs --trust-domain)");
  cmd->add_option("--tls-san", *tls_sans,
                  "A DNS name or IP address the --tls certificate names (repeatable; default localhost and "
                  "127.0.0.1)");
  cmd->add_option("--trace-window-spans", *trace_window_spans,
                  "How many spans of recent traces the control plane keeps in memory for the dashboard's Traces page "
                  "and tollway advise, received on POST /v1/traces (OTLP/HTTP JSON); whole oldest traces are evicted "
                  "first (0 to 1000000; default 10000; 0 turns the receiver off)");
  cmd->add_option("--trace-token-file", *trace_token_file,
                  "File holding the token a span sender (e.g. an OpenTelemetry Collector's otlphttp exporter) sends "
                  "as Authorization: Bearer on POST /v1/traces; client certificates of the trust domain are accepted "
                  "without it");
  cmd->add_flag("--traces-unauthenticated", *traces_unauthenticated,
                "Accept POST /v1/traces from anyone who reaches the listener (a loopback or otherwise protected "
                "listener, as a collector's OTLP receiver)");
  add_log_level_option(*cmd, *log_level);

  auto* status = cmd->add_subcommand(
      "status", "Print every node's state (SYNCED, STALE, ERROR, NOT_SENT, DISCONNECTED, UNMANAGED), versions and build");
  auto url = std::make_shared<std::string>();
  auto status_token_file = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto status_ca_file = std::make_shared<std::string>();
  status->add_option("--url", *url, "The control plane's URL, e.g. http://127.0.0.1:7070")->required();
  status->add_option("--ca-file", *status_ca_file,
                     "PEM CAs that verify an https control plane (its trust bundle, for one run with --tls); "
                     "default: the system trust store");
  status->add_option("--admin-token-file", *status_token_file, "File holding the admin token")->required();
  status->add_flag("--json", *as_json, "Print GET /v1/fleet's JSON as it is");
  status->callback([=, &exit_code] {
    const std::string token = read_token_file(*status_token_file);
    if (token.empty()) {
      std::cerr << "--admin-token-file: " << *status_token_file << " is unreadable or empty\n";
      exit_code = 1;
      return;
    }
    exit_code = print_status(*url, token, *as_json, *status_ca_file);
  });

  add_control_publish_commands(*cmd, exit_code);
  add_control_history_commands(*cmd, exit_code);
  add_control_identity_commands(*cmd, exit_code);

  cmd->callback([=, &exit_code] {
    if (!cmd->get_subcommands().empty()) return;
    const bool use_directory = !policy->empty();
    const bool use_etcd = !etcd->empty() || !prefix->empty();
    if (use_directory == use_etcd || (use_etcd && (etcd->empty() || prefix->empty())) || admin_token_file->empty()) {
      std::cerr << "tollway control needs one policy store, --policy DIR or --etcd URLS with --prefix P, and "
                   "--admin-token-file FILE (see --help)\n";
      exit_code = 1;
      return;
    }
    const auto timeout = units::parse_duration(*poll_timeout);
    if (!timeout || *timeout < std::chrono::seconds(1) || *timeout > std::chrono::seconds(60)) {
      std::cerr << "--poll-timeout: \"" << *poll_timeout << "\" is not a duration from 1s to 60s\n";
      exit_code = 1;
      return;
    }
    const auto drift = units::parse_duration(*drift_after);
    if (!drift || *drift < std::chrono::seconds(1) || *drift > std::chrono::hours(24 * 7)) {
      std::cerr << "--drift-after: \"" << *drift_after << "\" is not a duration from 1s to 168h\n";
      exit_code = 1;
      return;
    }
    const auto lifetime = units::parse_duration(*svid_lifetime);
    if (!lifetime || *lifetime < control::CertificateAuthority::kMinSvidLifetime) {
      std::cerr << "--svid-lifetime: \"" << *svid_lifetime << "\" is not a duration of at least 5m\n";
      exit_code = 1;
      return;
    }
    if (ca_cert->empty() != ca_key->empty() || (!ca_cert->empty() && trust_domain->empty())) {
      std::cerr << "--ca-cert and --ca-key go together, with --trust-domain\n";
      exit_code = 1;
      return;
    }
    if (!trust_domain->empty()) {
      if (const auto problem = tls::SpiffeId::check_trust_domain(*trust_domain); !problem.empty()) {
        std::cerr << "--trust-domain: " << problem << "\n";
        exit_code = 1;
        return;
      }
      if (state_dir->empty()) {
        std::cerr << "--trust-domain needs --state-dir: the CA's key and the join tokens live there\n";
        exit_code = 1;
        return;
      }
    }
    const auto sync_interval = units::parse_duration(*lease_sync);
    if (!sync_interval || *sync_interval < std::chrono::milliseconds(100) || *sync_interval > std::chrono::seconds(60)) {
      std::cerr << "--lease-sync-interval: \"" << *lease_sync << "\" is not a duration from 100ms to 60s\n";
      exit_code = 1;
      return;
    }
    const auto ttl = units::parse_duration(*lease_ttl);
    if (!ttl || *ttl < 2 * *sync_interval || *ttl > std::chrono::hours(1)) {
      std::cerr << "--lease-ttl: \"" << *lease_ttl << "\" is not a duration from twice --lease-sync-interval to 1h\n";
      exit_code = 1;
      return;
    }
    const auto writer_ttl = units::parse_duration(*writer_lease_ttl);
    if (!writer_ttl || *writer_ttl < std::chrono::seconds(2) || *writer_ttl > std::chrono::minutes(5) ||
        *writer_ttl % std::chrono::seconds(1) != std::chrono::milliseconds(0)) {
      std::cerr << "--writer-lease-ttl: \"" << *writer_lease_ttl << "\" is not whole seconds from 2s to 5m\n";
      exit_code = 1;
      return;
    }
    if (!advertise->empty() && !advertise->starts_with("http://") && !advertise->starts_with("https://")) {
      std::cerr << "--advertise: \"" << *advertise << "\" is not an http:// or https:// URL\n";
      exit_code = 1;
      return;
    }
    if ((*serve_tls || !tls_sans->empty()) && trust_domain->empty()) {
      std::cerr << "--tls and --tls-san need --trust-domain: the listener's certificate comes from the CA\n";
      exit_code = 1;
      return;
    }
    if (*accept_token_after_join && trust_domain->empty()) {
      std::cerr << "--accept-node-token-after-join goes with --trust-domain: without a CA every node uses its token\n";
      exit_code = 1;
      return;
    }
    if (!tls_sans->empty() && !*serve_tls) {
      std::cerr << "--tls-san goes with --tls\n";
      exit_code = 1;
      return;
    }
    if (*trace_window_spans > 1'000'000) {
      std::cerr << "--trace-window-spans: " << *trace_window_spans << " is over 1000000\n";
      exit_code = 1;
      return;
    }
    control::ControlPlaneOptions options;
    if (!lease_store->empty()) {
      std::string why;
      options.lease_redis = limits::redis::parse_redis_url(*lease_store, why);
      if (!options.lease_redis) {
        std::cerr << "--lease-store: " << why << "\n";
        exit_code = 1;
        return;
      }
      options.lease_redis->connect_timeout_ms = kLeaseStoreTimeoutMs;
      options.lease_redis->command_timeout_ms = kLeaseStoreTimeoutMs;
    }
    options.trace_window_spans = *trace_window_spans;
    options.trace_receiver.unauthenticated = *traces_unauthenticated;
    if (!trace_token_file->empty()) {
      options.trace_receiver.token = read_token_file(*trace_token_file);
      if (options.trace_receiver.token.empty()) {
        std::cerr << "--trace-token-file: " << *trace_token_file << " is unreadable or empty\n";
        exit_code = 1;
        return;
      }
    }
    options.policy_dir = *policy;
    options.etcd_urls = *etcd;
    options.etcd_prefix = *prefix;
    options.author = *author;
    options.listen = *listen;
    options.admin_token = read_token_file(*admin_token_file);
    if (options.admin_token.empty()) {
      std::cerr << "--admin-token-file: " << *admin_token_file << " is unreadable or empty\n";
      exit_code = 1;
      return;
    }
    options.state_dir = *state_dir;
    options.poll_timeout = *timeout;
    options.drift_after = *drift;
    options.trust_domain = *trust_domain;
    options.ca_cert_file = *ca_cert;
    options.ca_key_file = *ca_key;
    options.svid_lifetime = std::chrono::duration_cast<std::chrono::seconds>(*lifetime);
    options.tls = *serve_tls;
    options.accept_node_token_after_join = *accept_token_after_join;
    options.lease_sync_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*sync_interval);
    options.lease_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(*ttl);
    options.writer_lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(*writer_ttl);
    options.advertise_url = *advertise;
    options.etcd_tls = *etcd_tls;
    if (!tls_sans->empty()) options.tls_host_names = *tls_sans;
    options.check = check_node_document;
    options.read_budgets = read_node_budgets;
    init_logging(*log_level);
    exit_code = control::run_control_plane(options);
  });
}

}  // namespace tollway::app
