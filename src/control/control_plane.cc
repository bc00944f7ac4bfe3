#include "control/control_plane.h"

#include <boost/asio.hpp>

#include <filesystem>
#include <iostream>

#include "config/gateway_config.h"
#include "control/ca/certificate_authority.h"
#include "control/ca/identity_store.h"
#include "control/cert_api.h"
#include "control/leases/redis_lease_store.h"
#include "control/leases/usage_api.h"
#include "control/control_listener_tls.h"
#include "control/etcd/etcd_policy.h"
#include "control/etcd/etcd_watch.h"
#include "control/ha/etcd_history.h"
#include "control/ha/writer_election.h"
#include "control/git_commit.h"
#include "control/policy_api.h"
#include "control/policy_history.h"
#include "control/rollout/rollout_coordinator.h"
#include "control/watch_api.h"
#include "core/file_stamp.h"
#include "core/log.h"
#include "core/version.h"
#include "http/listen_socket.h"
#include "proxy/admin_listener.h"

namespace tollway::control {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr auto kPolicyPollInterval = std::chrono::milliseconds(200);
constexpr auto kEtcdTimeout = std::chrono::milliseconds(3000);
constexpr auto kEtcdRetry = std::chrono::milliseconds(500);  // a failed read of etcd is tried again after this
constexpr auto kDriftCheckInterval = std::chrono::milliseconds(1000);

using DirectoryStamp = std::vector<std::pair<std::string, core::FileStamp>>;

DirectoryStamp stamp_policy(const std::string& dir) {
  DirectoryStamp stamp;
  for (const auto& file : policy_files(dir)) stamp.emplace_back(file, core::stamp_file(file));
  return stamp;
}

class ControlPlane {
 public:
  explicit ControlPlane(const ControlPlaneOptions& options)
      : options_(options), api_(context_, options.admin_token, options.poll_timeout, options.drift_after) {}

  int run() {
    if (!open_history() || !open_certificate_authority() || !open_leases()) return 1;
    if (!options_.policy_dir.empty()) {
      if (!start_directory()) return 1;
    } else if (!start_etcd()) {
      return 1;
    }
    policy_api_ = std::make_unique<PolicyApi>(*history_, etcd_.get(), prefix_, store_, options_.check);
    policy_api_->set_rollout_log(rollout_log_.get());
    api_.set_policy_api(policy_api_.get());
    if (options_.trace_window_spans > 0) {
      traces_ = std::make_unique<traces::TraceApi>(options_.trace_window_spans, options_.trace_receiver);
      api_.set_trace_api(traces_.get());
    }
    const auto address = config::parse_listen_address(options_.listen);
    boost::system::error_code ec;
    const auto ip = address ? asio::ip::make_address(address->host == "localhost" ? "127.0.0.1" : address->host, ec)
                            : asio::ip::address();
    if (!address || ec) {
      std::cerr << "--listen: \"" << options_.listen << "\" is not IP:PORT\n";
      return 1;
    }
    std::unique_ptr<proxy::AdminListener> listener;
    try {
      // Idle connections may wait for a whole poll and a little more.
      proxy::AdminTimeouts timeouts;
      timeouts.idle = std::max(timeouts.idle, options_.poll_timeout * 2);
      listener = std::make_unique<proxy::AdminListener>(
          context_, asio::ip::tcp::endpoint(ip, address->port), timeouts,
          [this](const proxy::AdminRequest& r) { return api_.handle(r); });
    } catch (const http::ListenError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
    if (listener_tls_) {
      std::string error;
      auto tls = listener_tls_->issue(error);
      if (!tls) {
        std::cerr << "--tls: cannot issue the control plane's certificate: " << error << "\n";
        return 1;
      }
      listener->use_tls(std::move(tls));
      listener_ = listener.get();
      api_.set_handshake_refusals(&listener->handshake_refusals());
      asio::co_spawn(context_, renew_listener_tls(*listener), asio::detached);
    }
    listener->start();
    if (etcd_) start_following_etcd(listener->local_endpoint());
    else asio::co_spawn(context_, watch_directory(), asio::detached);
    asio::co_spawn(context_, watch_drift(), asio::detached);
    signals_.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error) return;
      log::info("draining", json::ObjectWriter().field("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      stopping_ = true;
      if (watch_) watch_->stop();
      if (election_) election_->stop();
      etcd_wake_.cancel();
      api_.stop();
      listener->stop();
      asio::post(context_, [this] { context_.stop(); });
    });
    json::ObjectWriter ready;
    ready.field("listen", http::endpoint_text(listener->local_endpoint()))
        .field("store", store_)
        .field("lease_store", usage_->store().where())
        .field("revision", revision_)
        .field("nodes", static_cast<uint64_t>(nodes_))
        .field("drift_after_s", drift_after_seconds())
        .field("trace_window_spans", static_cast<uint64_t>(options_.trace_window_spans));
    if (ca_)
      ready.field("trust_domain", options_.trust_domain)
          .field("ca_expires", utc_text(ca_->expires_at()))
          .field("ca_root_generation", ca_view_.signing)
          .field("accept_node_token_after_join", options_.accept_node_token_after_join);
    if (listener_tls_)
      ready.field("tls", true)
          .field("spiffe_id", listener_tls_->spiffe_id())
          .field("certificate_expires", utc_text(listener_tls_->not_after()));
    ready.field("tollway_version", kVersion);
    log::info("control plane ready", std::move(ready));
    context_.run();
    log::info("control plane stopped");
    return 0;
  }

 private:
  bool open_history() {
    std::string path;
    if (!options_.state_dir.empty()) {
      std::error_code ec;
      fs::create_directories(options_.state_dir, ec);
      path = (fs::path(options_.state_dir) / "history.db").string();
    }
    std::string error;
    history_ = PolicyHistory::open(path, false, error);
    if (history_) rollout_log_ = rollout::RolloutLog::open(path, false, error);
    if (!history_ || !rollout_log_) {
      std::cerr << "--state-dir: " << error << "\n";
      return false;
    }
    rollout_ = std::make_unique<rollout::RolloutCoordinator>(
        *rollout_log_,
        [this](const std::string& revision, std::string& why) { return load_version(revision, why); },
        [this](const CheckedPolicy& policy, const std::string& revision) { api_.publish(policy, revision); });
    api_.set_rollout(rollout_.get());
    return true;
  }

  // A recorded version's files, checked again (the stable version a canary runs beside, after a restart).
  std::optional<CheckedPolicy> load_version(const std::string& revision, std::string& error) {
    const auto version = history_->find(revision, error);
    auto files = version ? history_->files_of(version->counter, error) : std::nullopt;
    if (!files) return std::nullopt;
    PolicyVerdict verdict =
        check_policy(PolicyFiles{options_.policy_dir.empty() ? prefix_ : options_.policy_dir, std::move(*files)},
                     options_.check);
    if (!verdict.policy) error = revision + " no longer passes the check";
    return std::move(verdict.policy);
  }

  // Where the leased budgets' aggregates persist: Redis with --lease-store, else STATE_DIR/leases.db (in memory
  // without a state directory).
  std::unique_ptr<leases::LeaseStore> make_lease_store(std::string& error) {
    if (options_.lease_redis)
      return std::make_unique<leases::RedisLeaseStore>(context_.get_executor(), *options_.lease_redis);
    const std::string path =
        options_.state_dir.empty() ? std::string() : (fs::path(options_.state_dir) / "leases.db").string();
    return leases::SqliteLeaseStore::open(path, error);
  }

  asio::awaitable<std::unique_ptr<leases::UsageApi>> open_usage_api(std::unique_ptr<leases::LeaseStore> store,
                                                                    std::string& error) {
    co_return co_await leases::UsageApi::open(api_.fleet(), api_.node_auth(), options_.read_budgets, std::move(store),
                                              {.sync_interval_ms = options_.lease_sync_interval.count(),
                                               .lease_ttl_ms = options_.lease_ttl.count()},
                                              leases::unix_ms_now(), error);
  }

  // The lease book of leased budgets, from make_lease_store(). Loaded on the plane's own context (a Redis store is
  // awaited) before anything else runs on it.
  bool open_leases() {
    std::string error;
    const char* option = options_.lease_redis ? "--lease-store" : "--state-dir";
    std::unique_ptr<leases::LeaseStore> store = make_lease_store(error);
    if (store) {
      bool opened = false;
      asio::co_spawn(context_, open_usage_api(std::move(store), error),
                     [&](std::exception_ptr e, std::unique_ptr<leases::UsageApi> api) {
                       opened = true;
                       if (e) error = "cannot open the lease store";
                       else usage_ = std::move(api);
                     });
      while (!opened && context_.run_one() > 0) {
      }
      if (context_.stopped()) context_.restart();
    }
    if (!usage_) {
      std::cerr << option << ": " << error << "\n";
      return false;
    }
    api_.set_usage_api(usage_.get());
    return true;
  }

  // A plane that becomes the writer takes over the leased budgets' aggregation: its lease book is loaded again from
  // the store (the shared Redis of --lease-store holds what the previous writer wrote; a leases.db only what this
  // plane wrote) and learns the outstanding leases from the nodes' reports for one lease lifetime before granting
  // new capacity, as after a restart. The book it replaces stays allocated (a report may still be inside it).
  asio::awaitable<void> take_over_aggregation() {
    std::string error;
    std::unique_ptr<leases::LeaseStore> store = make_lease_store(error);
    std::unique_ptr<leases::UsageApi> reopened;
    if (store) reopened = co_await open_usage_api(std::move(store), error);
    if (!reopened) {
      log::error("the new writer cannot load the leased budgets; it aggregates on with the book it has",
                 json::ObjectWriter().field("error", error));
      co_return;
    }
    api_.set_usage_api(reopened.get());
    retired_usage_.push_back(std::move(usage_));
    usage_ = std::move(reopened);
    log::info("leased budgets reloaded for the writer role; learning outstanding leases for one lease lifetime",
              json::ObjectWriter().field("lease_store", usage_->store().where()));
  }

  // The CA and the identity store when --trust-domain is given; the cert endpoints stay off (404) otherwise.
  bool open_certificate_authority() {
    if (options_.trust_domain.empty()) return true;
    if (options_.state_dir.empty()) {
      std::cerr << "--trust-domain needs --state-dir: the CA's key and the join tokens live there\n";
      return false;
    }
    std::string error;
    identities_ = IdentityStore::open((fs::path(options_.state_dir) / "identity.db").string(), false, error);
    if (!identities_) {
      std::cerr << "--state-dir: " << error << "\n";
      return false;
    }
    const bool generated = options_.ca_cert_file.empty();
    if (generated) {
      const auto schedule = identities_->root_schedule(error);
      if (schedule) {
        ca_view_ = root_view(*schedule, Clock::now());
        ca_ = CertificateAuthority::open_state_dir(options_.state_dir, options_.trust_domain, ca_view_, error);
        delete_retired_keys(*schedule);
      }
    } else {
      ca_ = CertificateAuthority::from_files(options_.ca_cert_file, options_.ca_key_file, options_.trust_domain, error);
    }
    if (!ca_) {
      std::cerr << (generated ? "--trust-domain: " : "--ca-cert: ") << error << "\n";
      return false;
    }
    // Recorded for the commands (token create, ca rotate) once the CA opened: a refused start records nothing.
    if (!identities_->set_trust_domain(options_.trust_domain, error) ||
        !identities_->set_setting("ca_source", generated ? "generated" : "supplied", error) ||
        !identities_->set_setting("svid_lifetime_s", std::to_string(options_.svid_lifetime.count()), error)) {
      std::cerr << "--state-dir: " << error << "\n";
      return false;
    }
    certs_ = std::make_unique<CertApi>(ca_, *identities_, options_.svid_lifetime);
    api_.set_cert_api(certs_.get());
    api_.node_auth().use_ca(ca_, *identities_);
    api_.node_auth().accept_token_after_join(options_.accept_node_token_after_join);
    if (options_.tls)
      listener_tls_ = std::make_unique<ControlListenerTls>(ca_, options_.state_dir, options_.tls_host_names,
                                                           options_.svid_lifetime);
    return true;
  }

  // A retired root signs nothing and is trusted by no one: its key is deleted (its certificate stays, for the
  // record). Idempotent.
  void delete_retired_keys(const std::vector<RootGeneration>& schedule) {
    const auto now = Clock::now();
    for (const auto& root : schedule) {
      if (root_state(schedule, root, now) != RootState::Retired) continue;
      const std::string key = root_key_file(options_.state_dir, root.generation);
      std::error_code ec;
      if (fs::remove(key, ec))
        log::info("retired CA root's key deleted", json::ObjectWriter().field("generation", root.generation).field("file", key));
      else if (ec)
        log::error("cannot delete a retired CA root's key",
                   json::ObjectWriter().field("file", key).field("error", ec.message()));
    }
  }

  // On the one-second beat: the generated root's schedule as it stands now (a `ca rotate` recorded meanwhile, or a
  // root that activated or retired). A change rebuilds the CA — the bundle, the signer, the listener's certificate
  // and its client CAs — for new requests and handshakes; open connections keep theirs. A failure is logged once per
  // change and the CA in force serves on.
  void follow_root_schedule() {
    if (!ca_ || !options_.ca_cert_file.empty()) return;
    std::string error;
    const auto schedule = identities_->root_schedule(error);
    if (!schedule) {
      log_ca_refresh_failure(error);
      return;
    }
    const RootView view = root_view(*schedule, Clock::now());
    if (view == ca_view_) return;
    auto next = CertificateAuthority::open_state_dir(options_.state_dir, options_.trust_domain, view, error);
    if (!next) {
      log_ca_refresh_failure(error);
      return;
    }
    const RootView previous = ca_view_;
    ca_ = std::move(next);
    ca_view_ = view;
    ca_refresh_error_.clear();
    json::ObjectWriter fields;
    std::string bundle;
    for (const int64_t generation : view.bundle) bundle += (bundle.empty() ? "" : ",") + std::to_string(generation);
    fields.field("bundle_generations", bundle)
        .field("signing_generation", view.signing)
        .field("previous_signing_generation", previous.signing)
        .field("listener_generation", view.listener_signing)
        .field("spiffe_sequence", static_cast<int64_t>(view.sequence))
        .field("ca_expires", utc_text(ca_->expires_at()));
    log::info("CA roots changed", std::move(fields));
    delete_retired_keys(*schedule);
    if (listener_tls_ && listener_) {
      if (auto tls = listener_tls_->issue(error)) {
        listener_->use_tls(std::move(tls));
        log::info("control plane certificate reissued for the new trust bundle",
                  json::ObjectWriter().field("not_after", utc_text(listener_tls_->not_after())));
      } else {
        log::error("cannot reissue the control plane's certificate for the new trust bundle",
                   json::ObjectWriter().field("error", error));
      }
    }
  }

  void log_ca_refresh_failure(const std::string& error) {
    if (error == ca_refresh_error_) return;
    ca_refresh_error_ = error;
    log::error("cannot follow the CA root schedule; the CA in force serves on", json::ObjectWriter().field("error", error));
  }

  // Reissues the listener's certificate at half its life; a failure is retried every 30 s while the current one
  // serves on.
  asio::awaitable<void> renew_listener_tls(proxy::AdminListener& listener) {
    asio::system_timer timer(context_);
    auto next = listener_tls_->renew_at();
    while (!stopping_) {
      timer.expires_at(next);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) co_return;
      std::string error;
      if (auto tls = listener_tls_->issue(error)) {
        listener.use_tls(std::move(tls));
        next = listener_tls_->renew_at();
        log::info("control plane certificate renewed",
                  json::ObjectWriter().field("not_after", utc_text(listener_tls_->not_after())));
      } else {
        next = Clock::now() + std::chrono::seconds(30);
        log::error("cannot renew the control plane's certificate; retrying in 30 s",
                   json::ObjectWriter().field("error", error).field("not_after", utc_text(listener_tls_->not_after())));
      }
    }
  }

  // Hands a checked policy, recorded as revision_ under `counter`, to the rollout coordinator, which publishes it —
  // to its canary first when its rollout asks for one. A restart that finds a newer version than the one that ran
  // gives the coordinator the version before it (or, rolled back, its stable version) first. "" or the problem.
  std::string roll_out(const CheckedPolicy& policy, const std::optional<rollout::RolloutSpec>& spec, int64_t counter,
                       bool new_version) {
    const auto now = Clock::now();
    std::string error;
    if (new_version && counter > 1 && !rollout_->has_stable())
      if (const auto before = history_->find(std::to_string(counter - 1), error))
        if (auto ran_before = load_version(before->revision, error))
          rollout_->accept(*ran_before, std::nullopt, before->revision, false, now);
    return rollout_->accept(policy, spec, revision_, new_version, now);
  }

  // Checks `files` whole; a valid policy is recorded in the history, then published. Returns the errors.
  std::vector<std::string> accept(const PolicyFiles& files, const PublishMeta& meta) {
    PolicyVerdict verdict = check_policy(files, options_.check);
    for (const auto& w : verdict.warnings) log::warn("policy warning", json::ObjectWriter().field("warning", w));
    if (!verdict.policy) {
      for (const auto& e : verdict.errors)
        log::warn("policy refused; the published revision stays",
                  json::ObjectWriter().field("error", e).field("revision", revision_));
      api_.refuse(verdict.errors);
      return verdict.errors;
    }
    std::string error;
    const auto spec = rollout::spec_for(verdict.policy->rollout, meta.canary, verdict.policy->nodes, error);
    if (!error.empty()) {
      log::warn("policy refused; the published revision stays",
                json::ObjectWriter().field("error", "--canary " + meta.canary + ": " + error).field("revision", revision_));
      api_.refuse({"--canary " + meta.canary + ": " + error});
      return {error};
    }
    std::string latest_error;
    const auto before = history_->latest(latest_error);
    const auto version = history_->record(files, store_, meta, error);
    if (!version) {
      log::error("policy not published: the history cannot record it", json::ObjectWriter().field("error", error));
      api_.refuse({"the history cannot record this version, so it is not published: " + error});
      return {error};
    }
    const bool changed = version->revision != revision_;
    const std::string previous = revision_;
    revision_ = version->revision;
    nodes_ = verdict.policy->nodes.size();
    const bool new_version = !before || before->revision != revision_;
    if (const std::string problem = roll_out(*verdict.policy, spec, version->counter, new_version);
        !problem.empty()) {
      log::error("policy not published", json::ObjectWriter().field("error", problem).field("revision", revision_));
      api_.refuse({problem});
      return {problem};
    }
    if (changed)
      log::info("policy published", json::ObjectWriter()
                                        .field("revision", revision_)
                                        .field("previous", previous)
                                        .field("author", version->meta.author)
                                        .field("nodes", static_cast<uint64_t>(nodes_)));
    return {};
  }

  PublishMeta directory_meta() const {
    PublishMeta meta;
    meta.author = options_.author;
    if (const auto commit = git_commit_of(options_.policy_dir)) {
      meta.commit = commit->id;
      meta.commit_author = commit->author;
      if (meta.author.empty()) meta.author = commit->author;
      if (commit->uncommitted_changes) meta.note = "the directory had uncommitted changes";
    }
    return meta;
  }

  bool start_directory() {
    store_ = "directory " + options_.policy_dir;
    std::vector<std::string> errors;
    PolicyFiles files = read_policy_directory(options_.policy_dir, errors);
    seen_ = stamp_policy(options_.policy_dir);
    if (errors.empty()) errors = accept(files, directory_meta());
    if (!errors.empty()) {
      for (const auto& e : errors) std::cerr << e << "\n";
      std::cerr << "the policy in " << options_.policy_dir << " is not valid: nothing to publish\n";
      return false;
    }
    return true;
  }

  asio::awaitable<void> watch_directory() {
    asio::steady_timer timer(context_);
    DirectoryStamp candidate = seen_;
    while (!stopping_) {
      timer.expires_after(kPolicyPollInterval);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) co_return;
      DirectoryStamp now = stamp_policy(options_.policy_dir);
      if (now == seen_) {
        candidate = seen_;
        continue;
      }
      if (now != candidate) {
        candidate = std::move(now);  // checked once two polls agree: a file being written is not read half-written
        continue;
      }
      seen_ = now;
      std::vector<std::string> errors;
      PolicyFiles files = read_policy_directory(options_.policy_dir, errors);
      if (!errors.empty()) {
        api_.refuse(std::move(errors));
        continue;
      }
      accept(files, directory_meta());
    }
  }

  // The etcd store: the listener starts at once; the policy comes from the history's newest version (what
  // this control plane published last) until etcd answers.
  bool start_etcd() {
    std::string error;
    const auto prefix = etcd::normalize_prefix(options_.etcd_prefix, error);
    auto members = prefix ? etcd::parse_member_urls(options_.etcd_urls, options_.etcd_tls, error) : std::nullopt;
    if (!members) {
      std::cerr << (prefix && !error.starts_with("--") ? "--etcd: " : "") << error << "\n";
      return false;
    }
    prefix_ = *prefix;
    store_ = "etcd " + prefix_;
    etcd_members_ = *members;
    etcd_ = std::make_unique<etcd::EtcdClient>(context_.get_executor(), std::move(*members), kEtcdTimeout);
    const auto last = history_->latest(error);
    if (!last) return true;
    auto files = history_->files_of(last->counter, error);
    if (!files) return true;
    PolicyFiles policy{prefix_, std::move(*files)};
    if (accept(policy, last->meta).empty())
      log::info("serving the last recorded version until etcd answers", json::ObjectWriter().field("revision", revision_));
    return true;
  }

  void store_unreachable(const std::string& error) {
    if (api_.store_error().empty())
      log::warn("etcd unreachable: serving the last published revision",
                json::ObjectWriter().field("error", error).field("revision", revision_));
    api_.set_store_error("etcd unreachable: " + error);
  }

  void store_reachable() {
    if (!api_.store_error().empty()) log::info("etcd reachable again", json::ObjectWriter().field("revision", revision_));
    api_.set_store_error("");
  }

  // The etcd store's three loops: the watch stream over PREFIX/ and PREFIX.control/ (a change wakes the sync), the
  // writer election, and the sync that reads the policy whole, imports the writer's history records and publishes.
  void start_following_etcd(const asio::ip::tcp::endpoint& listening) {
    std::string identity = options_.advertise_url;
    if (identity.empty()) identity = std::string(listener_tls_ ? "https://" : "http://") + http::endpoint_text(listening);
    // [PREFIX.control/, PREFIX0): the policy keys PREFIX/… and the coordination keys PREFIX.control/… in one watch.
    const std::string watch_start = ha::control_prefix(prefix_) + "/";
    const std::string watch_end = etcd::prefix_range_end(etcd::prefix_key(prefix_));
    watch_ = std::make_unique<etcd::EtcdWatch>(
        context_.get_executor(), etcd_members_, watch_start, watch_end, kEtcdTimeout,
        etcd::EtcdWatch::Callbacks{
            .changed =
                [this](const etcd::WatchResponse& response) {
                  const std::string writer = ha::writer_key(prefix_);
                  for (const auto& event : response.events)
                    if (event.key == writer && event.type == etcd::WatchEvent::Type::Delete) election_->poke();
                  wake_etcd_sync();
                },
            .reachable =
                [this](bool reachable, const std::string& why) {
                  if (reachable) {
                    if (watch_down_) wake_etcd_sync();  // the next read decides whether etcd is reachable
                    watch_down_ = false;
                  } else {
                    watch_down_ = true;
                    store_unreachable(why);
                  }
                }});
    election_ = std::make_unique<ha::WriterElection>(context_.get_executor(), *etcd_, ha::writer_key(prefix_), identity,
                                                     options_.writer_lease_ttl, [this] {
                                                       show_role();
                                                       wake_etcd_sync();
                                                       // A plane that was the writer from its start aggregates with the
                                                       // book it loaded then; any later writer term reloads it.
                                                       const auto role = election_->role();
                                                       if (role == ha::WriterElection::Role::Writer && served_as_other_)
                                                         asio::co_spawn(context_, take_over_aggregation(), asio::detached);
                                                       if (role != ha::WriterElection::Role::Writer) served_as_other_ = true;
                                                     },
                                                     [this](const std::string& error) {
                                                       // A keep-alive no member answered: etcd is unreachable, even
                                                       // if the watch's connection has not noticed (a silent
                                                       // partition); the watch is opened again.
                                                       if (!error.empty()) {
                                                         store_unreachable(error);
                                                         watch_->reconnect();
                                                       } else if (!api_.store_error().empty()) {
                                                         wake_etcd_sync();  // a read decides when it is ready again
                                                       }
                                                     });
    show_role();
    asio::co_spawn(context_, watch_->run(), asio::detached);
    asio::co_spawn(context_, election_->run(), asio::detached);
    asio::co_spawn(context_, sync_etcd_loop(), asio::detached);
  }

  void show_role() {
    const std::string writer = election_->role() == ha::WriterElection::Role::Writer ? "" : election_->writer();
    api_.set_role(ha::role_name(election_->role()), writer);
  }

  void wake_etcd_sync() {
    etcd_dirty_ = true;
    etcd_wake_.cancel();
  }

  asio::awaitable<void> sync_etcd_loop() {
    while (!stopping_) {
      if (etcd_dirty_) {
        etcd_dirty_ = false;
        const bool done = co_await sync_etcd();
        if (!done) etcd_dirty_ = true;  // tried again after kEtcdRetry
      }
      if (stopping_) co_return;
      etcd_wake_.expires_after(etcd_dirty_ ? kEtcdRetry : std::chrono::hours(1));
      boost::system::error_code ec;
      co_await etcd_wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Imports the history records the writer put in etcd after the newest one this plane has. False when etcd
  // cannot be read (or a record cannot be imported).
  asio::awaitable<bool> import_etcd_history() {
    std::string error;
    const auto newest = history_->latest(error);
    if (!newest && !error.empty()) {
      log::error("cannot read the history", json::ObjectWriter().field("error", error));
      co_return false;
    }
    const int64_t after = newest ? newest->counter : 0;
    etcd::RangeAnswer records = co_await etcd_->range(ha::history_key(prefix_, after + 1),
                                                      etcd::prefix_range_end(ha::history_start(prefix_)), false);
    if (!records.result) {
      store_unreachable(records.error);
      co_return false;
    }
    for (const auto& kv : records.result->kvs) {
      auto shared = ha::parse_version_json(kv.value, error);
      if (!shared || !history_->import(shared->record, shared->files, error)) {
        if (error != history_error_)
          log::error("cannot take in a version the writer recorded; this plane's history stops there",
                     json::ObjectWriter().field("key", kv.key).field("error", error));
        history_error_ = error;
        co_return false;
      }
      history_error_.clear();
      shared_counter_ = std::max(shared_counter_, shared->record.counter);
    }
    co_return true;
  }

  // The writer's versions that etcd's history lacks — recorded before this plane ran with others on etcd (an upgrade,
  // or a plane that was alone) — written there, so that every plane can import them. False: try again.
  asio::awaitable<bool> share_local_history() {
    std::string error;
    const auto newest = history_->latest(error);
    if (!newest || newest->counter <= shared_counter_) co_return true;
    etcd::RangeAnswer keys = co_await etcd_->range(ha::history_start(prefix_),
                                                   etcd::prefix_range_end(ha::history_start(prefix_)), true);
    if (!keys.result) {
      store_unreachable(keys.error);
      co_return false;
    }
    for (const auto& kv : keys.result->kvs)
      if (const auto counter = ha::history_counter(prefix_, kv.key)) shared_counter_ = std::max(shared_counter_, *counter);
    for (int64_t counter = shared_counter_ + 1; counter <= newest->counter; ++counter) {
      auto version = history_->find(std::to_string(counter), error);
      auto files = version ? history_->files_of(counter, error) : std::nullopt;
      if (!files) {
        log::error("cannot read the history to share it", json::ObjectWriter().field("error", error));
        co_return false;
      }
      etcd::TxnAnswer written = co_await etcd_->txn(etcd::fenced_create_txn_request(
          ha::writer_key(prefix_), election_->writer_revision(), ha::history_key(prefix_, counter),
          ha::version_json(*version, *files)));
      if (!written.result || !written.result->succeeded) co_return false;
      shared_counter_ = counter;
      log::info("version from this plane's history shared in etcd", json::ObjectWriter().field("revision", version->revision));
    }
    co_return true;
  }

  // One pass: the policy read whole (one range, one etcd revision), the writer's records imported, and the
  // policy checked; a valid one is published under the version the writer recorded for it — recorded now when
  // this plane is the writer (in etcd first, fenced by its writer key, then here). False: try again soon.
  asio::awaitable<bool> sync_etcd() {
    const std::string start = etcd::prefix_key(prefix_);
    etcd::RangeAnswer whole = co_await etcd_->range(start, etcd::prefix_range_end(start), false);
    if (stopping_) co_return true;
    if (!whole.result) {
      store_unreachable(whole.error);
      co_return false;
    }
    store_reachable();
    const bool imported = co_await import_etcd_history();
    if (!imported) co_return false;
    if (election_->role() == ha::WriterElection::Role::Writer) {
      const bool shared = co_await share_local_history();
      if (!shared) co_return false;
    }
    const etcd::EtcdPolicyRead read = etcd::policy_from_range(prefix_, *whole.result);
    const std::string fingerprint = etcd::range_fingerprint(*whole.result);
    std::string error;
    const auto newest = history_->latest(error);
    const bool serving_newest = newest && newest->revision == revision_;
    // Nothing new (the watch saw other keys), unless a checked policy waits for the writer (this plane may be it now).
    if (fingerprint == etcd_seen_ && serving_newest && waiting_for_.empty()) co_return true;
    if (!read.errors.empty()) {
      etcd_seen_ = fingerprint;
      for (const auto& e : read.errors)
        log::warn("policy refused; the published revision stays",
                  json::ObjectWriter().field("error", e).field("revision", revision_));
      api_.refuse(read.errors);
      co_return true;
    }
    PolicyVerdict verdict = check_policy(read.files, options_.check);
    if (fingerprint != etcd_seen_)
      for (const auto& w : verdict.warnings) log::warn("policy warning", json::ObjectWriter().field("warning", w));
    etcd_seen_ = fingerprint;
    if (!verdict.policy) {
      for (const auto& e : verdict.errors)
        log::warn("policy refused; the published revision stays",
                  json::ObjectWriter().field("error", e).field("revision", revision_));
      api_.refuse(verdict.errors);
      co_return true;
    }
    PublishMeta meta;
    if (read.meta && read.meta->content_hash == read.files.content_hash()) meta = *read.meta;
    else meta.note = "written to etcd without `tollway control publish`";
    const auto spec = rollout::spec_for(verdict.policy->rollout, meta.canary, verdict.policy->nodes, error);
    if (!error.empty()) {
      log::warn("policy refused; the published revision stays",
                json::ObjectWriter().field("error", "--canary " + meta.canary + ": " + error).field("revision", revision_));
      api_.refuse({"--canary " + meta.canary + ": " + error});
      co_return true;
    }
    auto version = history_->next_version(read.files, store_, meta, error);
    if (!version) {
      log::error("cannot read the history", json::ObjectWriter().field("error", error));
      co_return false;
    }
    const bool recorded = newest && newest->counter == version->counter;
    if (!recorded) {
      if (election_->role() != ha::WriterElection::Role::Writer) {
        if (waiting_for_ != version->content_hash)
          log::info("policy checked; waiting for the writer to record it",
                    json::ObjectWriter().field("content_hash", version->content_hash).field("writer", election_->writer()));
        waiting_for_ = version->content_hash;
        co_return true;  // the writer's record wakes the watch
      }
      etcd::TxnAnswer written = co_await etcd_->txn(etcd::fenced_create_txn_request(
          ha::writer_key(prefix_), election_->writer_revision(), ha::history_key(prefix_, version->counter),
          ha::version_json(*version, read.files.files)));
      if (stopping_) co_return true;
      if (!written.result || !written.result->succeeded) {
        // No answer, lost the writer key, or another writer recorded this counter: read again and see.
        log::warn("the version could not be recorded in etcd; reading again",
                  json::ObjectWriter()
                      .field("revision", version->revision)
                      .field("error", written.result ? "the writer key or the counter changed" : written.error));
        etcd_seen_.clear();
        co_return false;
      }
      shared_counter_ = version->counter;
      if (!history_->import(*version, read.files.files, error)) {
        log::error("policy not published: the history cannot record it", json::ObjectWriter().field("error", error));
        api_.refuse({"the history cannot record this version, so it is not published: " + error});
        co_return false;
      }
    }
    waiting_for_.clear();
    const std::string previous = revision_;
    revision_ = version->revision;
    nodes_ = verdict.policy->nodes.size();
    // New to this plane: recorded now, or imported while it served an older one (a plane that starts with the
    // version recorded resumes it, and its rollout, from the history).
    const bool new_version = previous.empty() ? !recorded : previous != revision_;
    if (const std::string problem = roll_out(*verdict.policy, spec, version->counter, new_version); !problem.empty()) {
      log::error("policy not published", json::ObjectWriter().field("error", problem).field("revision", revision_));
      api_.refuse({problem});
      co_return true;
    }
    if (previous != revision_)
      log::info("policy published", json::ObjectWriter()
                                        .field("revision", revision_)
                                        .field("previous", previous)
                                        .field("author", version->meta.author)
                                        .field("nodes", static_cast<uint64_t>(nodes_))
                                        .field("recorded_by", recorded ? "imported" : "this plane (writer)"));
    co_return true;
  }

  int64_t drift_after_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(options_.drift_after).count();
  }

  // One log line per alert that starts or stops firing; the leased budgets' spend sampled for the last hour.
  void evaluate_alerts() {
    usage_->record_spend(leases::unix_ms_now());
    const auto changes = api_.update_alerts(Clock::now());
    for (const auto& alert : changes.fired)
      log::warn("alert firing", json::ObjectWriter()
                                    .field("alert", alert.condition.name)
                                    .field("severity", alert.condition.severity)
                                    .field("subject", alert.condition.subject)
                                    .field("message", alert.condition.message));
    for (const auto& alert : changes.resolved)
      log::info("alert resolved",
                json::ObjectWriter().field("alert", alert.condition.name).field("subject", alert.condition.subject));
  }

  // Every second: one log line per crossing of drift_after, either way, and the alerts evaluated.
  asio::awaitable<void> watch_drift() {
    asio::steady_timer timer(context_);
    const int64_t drift_after_s = drift_after_seconds();
    while (!stopping_) {
      rollout_->tick(api_.fleet(), Clock::now());
      follow_root_schedule();
      evaluate_alerts();
      for (const auto& change : api_.update_drift(Clock::now())) {
        const NodeRecord* record = api_.fleet().find(change.node);
        if (!record) continue;
        if (change.drifted) {
          json::ObjectWriter fields;
          fields.field("node", change.node)
              .field("state", state_name(change.state))
              .field("out_of_sync_s", static_cast<int64_t>(change.out_of_sync_for.count()))
              .field("drift_after_s", drift_after_s)
              .field("desired_version", record->desired_version)
              .field("applied_version", record->applied_version);
          if (change.state == NodeState::Error) fields.field("error", record->nack_reason);
          log::warn("node drifted: STALE or in ERROR for longer than drift_after", std::move(fields));
        } else {
          log::info("node no longer drifted",
                    json::ObjectWriter().field("node", change.node).field("state", state_name(change.state)));
        }
      }
      timer.expires_after(kDriftCheckInterval);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  const ControlPlaneOptions& options_;
  asio::io_context context_{1};
  asio::signal_set signals_{context_, SIGTERM, SIGINT};
  std::shared_ptr<const CertificateAuthority> ca_;  // replaced whole when the root schedule moves
  RootView ca_view_;
  std::string ca_refresh_error_;  // the last failure logged, so it is logged once
  proxy::AdminListener* listener_ = nullptr;  // with tls: the listener whose certificate follows the CA
  std::unique_ptr<IdentityStore> identities_;
  std::unique_ptr<CertApi> certs_;
  std::unique_ptr<leases::UsageApi> usage_;
  std::vector<std::unique_ptr<leases::UsageApi>> retired_usage_;  // books replaced at a writer change
  bool served_as_other_ = false;  // this plane has been a follower (or lost the writer role) since its start
  std::unique_ptr<ControlListenerTls> listener_tls_;
  std::unique_ptr<traces::TraceApi> traces_;
  WatchApi api_;
  std::unique_ptr<PolicyHistory> history_;
  std::unique_ptr<rollout::RolloutLog> rollout_log_;  // the rollouts table of history.db
  std::unique_ptr<rollout::RolloutCoordinator> rollout_;
  std::unique_ptr<etcd::EtcdClient> etcd_;
  std::vector<http::UpstreamEndpoint> etcd_members_;
  std::unique_ptr<etcd::EtcdWatch> watch_;
  std::unique_ptr<ha::WriterElection> election_;
  asio::steady_timer etcd_wake_{context_};
  bool etcd_dirty_ = false;     // the watch saw a change (or the role changed) since the last sync
  bool watch_down_ = false;     // every member failed the watch in a row
  std::string etcd_seen_;       // the keys and mod revisions of the last policy read whole and checked
  std::string waiting_for_;     // a follower's checked policy (content hash) not yet recorded by the writer
  std::string history_error_;   // the last failure to import a record, logged once
  int64_t shared_counter_ = 0;  // the newest version known to be in etcd's history
  std::unique_ptr<PolicyApi> policy_api_;
  std::string prefix_;
  std::string store_;  // "directory DIR" or "etcd PREFIX"
  DirectoryStamp seen_;
  std::string revision_;
  std::size_t nodes_ = 0;
  bool stopping_ = false;
};

}  // namespace

int run_control_plane(const ControlPlaneOptions& options) {
  ControlPlane plane(options);
  return plane.run();
}

}  // namespace tollway::control
