#include "proxy/engine.h"

#include <boost/asio.hpp>

#include <sys/resource.h>

#include <ctime>
#include <iostream>
#include <thread>

#include "core/json.h"
#include "core/log.h"
#include "core/heap_trim.h"
#include "core/prometheus_text.h"
#include "core/startup_pages.h"
#include "core/version.h"
#include "http/listen_socket.h"
#include "proxy/admin_listener.h"
#include "proxy/admission.h"
#include "proxy/worker.h"
#include "tls/server_context.h"

namespace tollway::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<tcp::endpoint> resolve_listen(const config::ListenAddress& a) {
  boost::system::error_code ec;
  const std::string host = a.host == "localhost" ? "127.0.0.1" : a.host;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(address, a.port);
}

// The stamps of the listeners' TLS files: as loaded into `serving` (`on_disk` false) or as they are now.
std::vector<core::FileStamp> tls_file_stamps(const pipeline::ServingSettings& serving, bool on_disk) {
  std::vector<core::FileStamp> stamps;
  std::vector<const tls::ServerTls*> loaded{serving.admin_tls.get()};
  for (const auto& listener : serving.listeners) loaded.push_back(listener.tls.get());
  for (const auto* tls : loaded) {
    if (tls == nullptr) continue;
    const auto some = on_disk ? tls::stamp_files(tls->files) : tls->stamps;
    stamps.insert(stamps.end(), some.begin(), some.end());
  }
  return stamps;
}

// How often the listeners' TLS files are checked for a change (as often as the config file).
constexpr auto kTlsFilePollInterval = std::chrono::milliseconds(500);
// How often the heap's free memory is returned to the kernel: after a burst the resident set comes back down
// within this time (the walk takes each malloc arena's lock once; well under a millisecond at these sizes).
constexpr auto kHeapTrimInterval = std::chrono::seconds(10);

std::string iso_time(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Raises the soft descriptor limit towards what the connection limits may need (one descriptor per client
// connection, one per request in flight for its upstream connection, and a reserve for listeners, pools,
// logs and stores), up to the hard limit, and warns when even that is short: accepts then pause for want of
// descriptors (AcceptErrors) before limits.max_connections refuses anything.
void fit_descriptor_limit(const config::Limits& limits) {
  constexpr rlim_t kReserve = 256;
  rlimit current{};
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(limits.max_connections + limits.max_requests_in_flight) + kReserve;
  if (current.rlim_cur != RLIM_INFINITY && current.rlim_cur < wanted) {
    rlimit raised = current;
    raised.rlim_cur = current.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, current.rlim_max);
    if (raised.rlim_cur > current.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) current = raised;
  }
  if (current.rlim_cur != RLIM_INFINITY && current.rlim_cur < wanted)
    log::warn("the descriptor limit is below what the connection limits may need; when descriptors run out, "
              "accepting pauses until some are freed",
              json::ObjectWriter()
                  .field("descriptor_limit", static_cast<uint64_t>(current.rlim_cur))
                  .field("wanted", static_cast<uint64_t>(wanted))
                  .field("max_connections", limits.max_connections)
                  .field("max_requests_in_flight", limits.max_requests_in_flight));
}

// How long start (and a reload) waits for every worker's set-up (the strict ledger's Redis connection and
// scripts) before going on without it; whatever is not ready by then is an outage, decided by each limit's
// on_store_error.
constexpr auto kWorkerSetupWait = std::chrono::seconds(5);

// Everything the control thread owns.
class Engine {
 public:
  Engine(Role& role, EngineOptions options) : role_(role), options_(std::move(options)) {}

  int run(const std::function<std::unique_ptr<ConfigSource>(asio::io_context&)>& make_source);

 private:
  // Reads the source and prepares the document it holds; nullopt with `errors` when rejected.
  std::optional<PreparedSnapshot> prepare(std::vector<std::string>& errors);
  bool apply_overrides(pipeline::Snapshot& snapshot, std::vector<std::string>& errors) const;
  asio::awaitable<void> reload(const char* trigger);
  // Runs every EngineServices::worker_setup on every worker at once, bounded by kWorkerSetupWait.
  asio::awaitable<void> set_up_workers();
  // Sets the workers up, then lets them accept and reports ready (/readyz, the ready line).
  asio::awaitable<void> open();
  void reject(const char* trigger, const std::vector<std::string>& errors);
  void start_drain(const char* signal_name);
  asio::awaitable<void> watch_signals();
  asio::awaitable<void> watch_source();
  // Polls the active listeners' certificate, key and client CA files and reloads when they change (new
  // connections get the new context; a rejected reload keeps the old one and is not retried until the files
  // change again).
  asio::awaitable<void> watch_tls_files();
  // Every kHeapTrimInterval, gives the heap's free pages back to the kernel (core::trim_free_heap).
  asio::awaitable<void> trim_heap();
  asio::awaitable<void> wait_for_drain();
  asio::awaitable<telemetry::RequestMetrics> merged_metrics();
  asio::awaitable<AdminResponse> admin(const AdminRequest& request);
  std::string render_metrics_header() const;

  Role& role_;
  EngineOptions options_;
  asio::io_context control_{1};
  // Installed when the Engine is made, before the ready line is logged: a signal sent right after that line
  // must reach the drain logic, not the default action.
  asio::signal_set signals_{control_, SIGHUP, SIGTERM, SIGINT};  // and SIGUSR1, added at start
  EngineServices services_;
  std::unique_ptr<ConfigSource> source_;
  Admission admission_;  // shared by the workers, which it outlives
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminListener> admin_;
  std::shared_ptr<const pipeline::Snapshot> active_;
  uint64_t reload_success_ = 0;
  uint64_t reload_failure_ = 0;
  std::string last_reload_error_;
  bool ready_ = false;  // the workers accept clients (set-up done or given up)
  bool draining_ = false;
};

// The command line's --listen, --admin and --workers win over the document's; 0 workers means one per core.
bool Engine::apply_overrides(pipeline::Snapshot& snapshot, std::vector<std::string>& errors) const {
  for (auto [flag, value, target] : {std::tuple{"--listen", &options_.listen, &snapshot.serving.listeners.front().address},
                                     std::tuple{"--admin", &options_.admin, &snapshot.serving.admin}}) {
    if (!*value) continue;
    auto parsed = config::parse_listen_address(**value);
    if (!parsed) {
      errors.push_back(std::string(flag) + ": \"" + **value + "\" is not HOST:PORT");
      return false;
    }
    *target = *parsed;
  }
  if (options_.workers) snapshot.serving.workers = *options_.workers;
  if (snapshot.serving.workers == 0)
    snapshot.serving.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return true;
}

std::optional<PreparedSnapshot> Engine::prepare(std::vector<std::string>& errors) {
  std::string error;
  auto document = source_->read(error);
  if (!document) {
    errors.push_back(error);
    return std::nullopt;
  }
  PrepareResult result = role_.prepare(*document, active_.get());
  for (const auto& w : result.warnings) log::warn("config warning", json::ObjectWriter().field("warning", w));
  if (!result.prepared) {
    errors = std::move(result.errors);
    if (errors.empty()) errors.push_back(source_->origin() + ": rejected");
    return std::nullopt;
  }
  pipeline::Snapshot& next = *result.prepared->snapshot;
  next.source_version = document->version;
  if (!apply_overrides(next, errors)) return std::nullopt;
  if (active_) {  // listeners and workers are made once, at start
    const auto& running = active_->serving;
    for (std::size_t l = 0; l < running.listeners.size(); ++l) {
      const auto& was = running.listeners[l].address;
      if (l >= next.serving.listeners.size() || next.serving.listeners[l].address.to_string() != was.to_string())
        errors.push_back(running.listeners[l].key + ": changes need a restart (running " + was.to_string() + ")");
    }
    if (next.serving.listeners.size() > running.listeners.size())
      errors.push_back(next.serving.listeners.back().key + ": a new listener needs a restart");
    if (next.serving.admin.to_string() != running.admin.to_string())
      errors.push_back(std::string(role_.name()) + ".admin: changes need a restart (running " +
                       running.admin.to_string() + ")");
    if (next.serving.workers != running.workers)
      errors.push_back(std::string(role_.name()) + ".workers: changes need a restart (running " +
                       std::to_string(running.workers) + ")");
    if (!errors.empty()) return std::nullopt;
    next.generation = active_->generation + 1;
  } else {
    next.generation = 1;
  }
  next.loaded_at = std::chrono::system_clock::now();
  return std::move(result.prepared);
}

int Engine::run(const std::function<std::unique_ptr<ConfigSource>(asio::io_context&)>& make_source) {
  signals_.add(SIGUSR1);  // asio's constructor takes three signals
  services_.control = &control_;
  services_.merged_request_metrics = [this] { return merged_metrics(); };
  source_ = make_source(control_);
  source_->count_responses([this]() -> asio::awaitable<ResponseCounts> {
    const telemetry::RequestMetrics merged = co_await merged_metrics();
    const auto totals = merged.response_counts();
    co_return ResponseCounts{totals.requests, totals.errors, totals.denials};
  });
  role_.attach(services_);
  std::vector<std::string> errors;
  auto prepared = prepare(errors);
  if (!prepared) {
    for (const auto& e : errors) std::cerr << e << "\n";
    return 1;
  }
  std::string error;
  active_ = role_.commit(std::move(*prepared), error);
  if (!active_) {
    std::cerr << error << "\n";
    return 1;
  }
  source_->applied(active_->version, {});
  const auto& serving = active_->serving;
  std::vector<tcp::endpoint> listens;
  for (const auto& listener : serving.listeners) {
    auto endpoint = resolve_listen(listener.address);
    if (!endpoint) {
      std::cerr << "cannot use the " << listener.name << " listener's address " << listener.address.to_string()
                << " (IP literals or localhost)\n";
      return 1;
    }
    listens.push_back(*endpoint);
  }
  fit_descriptor_limit(serving.limits);
  auto admin = resolve_listen(serving.admin);
  if (!admin) {
    std::cerr << "cannot use the admin address (IP literals or localhost)\n";
    return 1;
  }
  try {
    for (int i = 0; i < serving.workers; ++i) workers_.push_back(std::make_unique<Worker>(i, role_, admission_, active_));
    for (std::size_t l = 0; l < listens.size(); ++l) {
      std::vector<int> own_listeners;
      for (auto& w : workers_) {
        // Port 0: the first worker's ephemeral port is shared by the others through SO_REUSEPORT.
        const bool first = w == workers_.front();
        w->listen(l, first ? listens[l] : workers_.front()->local_endpoint(l), !first);
        own_listeners.push_back(w->listening_descriptor(l));
      }
      // Another process that bound the same port in the same instant would share its connections with ours.
      http::check_no_foreign_listeners(workers_.front()->local_endpoint(l), own_listeners,
                                       serving.listeners[l].name + " listener");
    }
    const AdminTimeouts admin_timeouts{serving.timeouts.idle, serving.timeouts.header_read,
                                       serving.timeouts.body_read};
    admin_ = std::make_unique<AdminListener>(control_, *admin, admin_timeouts,
                                             [this](const AdminRequest& r) { return this->admin(r); });
    admin_->use_tls(serving.admin_tls);
  } catch (const http::ListenError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  for (auto& w : workers_) w->start();
  admin_->start();
  asio::co_spawn(control_, watch_signals(), asio::detached);
  asio::co_spawn(control_, watch_source(), asio::detached);
  asio::co_spawn(control_, watch_tls_files(), asio::detached);
  asio::co_spawn(control_, trim_heap(), asio::detached);
  if (options_.identity) asio::co_spawn(control_, options_.identity->keep_renewed(), asio::detached);
  asio::co_spawn(control_, open(), asio::detached);
  control_.run();
  for (auto& w : workers_) w->stop_and_join();
  log::info(std::string(role_.name()) + " stopped");
  return 0;
}

asio::awaitable<void> Engine::set_up_workers() {
  if (services_.worker_setup.empty()) co_return;
  // Shared with the completion handlers, which run on this (the control) thread.
  struct Progress {
    std::size_t running = 0;
    asio::steady_timer all_done;
  };
  auto progress = std::make_shared<Progress>(
      Progress{0, asio::steady_timer(control_, asio::steady_timer::time_point::max())});
  const auto deadline = std::chrono::steady_clock::now() + kWorkerSetupWait;
  for (auto& w : workers_) {
    for (const auto& setup : services_.worker_setup) {
      ++progress->running;
      asio::co_spawn(control_, w->set_up(setup(deadline)), [progress](std::exception_ptr, bool) {
        if (--progress->running == 0) progress->all_done.cancel();
      });
    }
  }
  if (progress->running == 0) co_return;
  boost::system::error_code ec;
  co_await progress->all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Engine::open() {
  co_await set_up_workers();
  if (draining_) co_return;
  for (auto& w : workers_) w->accept();
  ready_ = true;
  const core::ReleasedPages startup_pages = core::release_startup_pages();
  json::ObjectWriter listeners;
  for (std::size_t l = 0; l < active_->serving.listeners.size(); ++l)
    listeners.field(active_->serving.listeners[l].name, http::endpoint_text(workers_.front()->local_endpoint(l)));
  log::info(std::string(role_.name()) + " ready",
            json::ObjectWriter()
                .field("listen", http::endpoint_text(workers_.front()->local_endpoint(0)))
                .raw_field("listeners", std::move(listeners).finish())
                .field("admin", http::endpoint_text(admin_->local_endpoint()))
                .field("workers", active_->serving.workers)
                .field("config", source_->origin())
                .field("config_version", active_->version)
                .field("tollway_version", kVersion)
                .field("startup_pages_released_kb", startup_pages.resident_bytes / 1024));
}

void Engine::reject(const char* trigger, const std::vector<std::string>& errors) {
  ++reload_failure_;
  source_->applied(active_->version, errors);
  last_reload_error_ = errors.empty() ? "unknown error" : errors.front();
  for (const auto& e : errors)
    log::warn("config reload rejected; the previous config stays active",
              json::ObjectWriter()
                  .field("trigger", trigger)
                  .field("error", e)
                  .field("active_version", active_->version));
}

asio::awaitable<void> Engine::reload(const char* trigger) {
  if (draining_) co_return;
  std::vector<std::string> errors;
  auto prepared = prepare(errors);
  if (!prepared) {
    reject(trigger, errors);
    co_return;
  }
  std::string error;
  std::shared_ptr<const pipeline::Snapshot> next = role_.commit(std::move(*prepared), error);
  if (!next) {
    reject(trigger, {error});
    co_return;
  }
  // A config that turned the strict ledger on has its connections made before it is used.
  co_await set_up_workers();
  // Every worker swaps before the new version is reported (in /config, logs), so what is reported is applied.
  for (auto& w : workers_) co_await w->apply_snapshot(next);
  admin_->use_tls(next->serving.admin_tls);
  active_ = next;
  ++reload_success_;
  last_reload_error_.clear();
  source_->applied(next->version, {});
  log::info("config reloaded", json::ObjectWriter()
                                   .field("trigger", trigger)
                                   .field("config_version", next->version)
                                   .field("generation", next->generation));
}

asio::awaitable<void> Engine::watch_signals() {
  auto& signals = signals_;
  while (!draining_) {
    boost::system::error_code ec;
    const int sig = co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (sig == SIGHUP && !source_->reloadable()) {
      log::info("SIGHUP: nothing to reload, the configuration " + source_->origin() + " never changes",
                json::ObjectWriter().field("trigger", "SIGHUP").field("config_version", active_->version));
    } else if (sig == SIGHUP) {
      source_->mark_read();
      co_await reload("SIGHUP");
    } else if (sig == SIGUSR1) {
      role_.reopen_logs();
      log::info("reopening the telemetry log files", json::ObjectWriter().field("trigger", "SIGUSR1"));
    } else {
      start_drain(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  }
}

asio::awaitable<void> Engine::watch_source() {
  while (!draining_) {
    const bool changed = co_await source_->changed();  // (GCC 12 miscompiles a co_await inside the condition)
    if (!changed || draining_) co_return;
    co_await reload(source_->change_trigger());
  }
}

asio::awaitable<void> Engine::trim_heap() {
  asio::steady_timer timer(control_);
  while (!draining_) {
    timer.expires_after(kHeapTrimInterval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || draining_) co_return;
    core::trim_free_heap();
  }
}

asio::awaitable<void> Engine::watch_tls_files() {
  asio::steady_timer timer(control_);
  std::vector<core::FileStamp> handled = tls_file_stamps(active_->serving, false);
  std::vector<core::FileStamp> candidate = handled;
  while (!draining_) {
    timer.expires_after(kTlsFilePollInterval);
    co_await timer.async_wait(asio::use_awaitable);
    if (draining_) co_return;
    const auto now = tls_file_stamps(active_->serving, true);
    if (now == tls_file_stamps(active_->serving, false) || now == handled) {
      handled = candidate = now;
    } else if (now != candidate) {
      candidate = now;  // reloaded once two polls agree, so a file being written is not read half-written
    } else {
      handled = now;
      co_await reload("certificate file change");
    }
  }
}

void Engine::start_drain(const char* signal_name) {
  if (draining_) return;
  draining_ = true;
  log::info("draining",
            json::ObjectWriter()
                .field("signal", signal_name)
                .field("deadline_ms", static_cast<int64_t>(active_->serving.timeouts.drain.count())));
  source_->cancel();
  if (options_.identity) options_.identity->stop();
  role_.on_drain();
  for (auto& w : workers_) w->post_drain();
  asio::co_spawn(control_, wait_for_drain(), asio::detached);
}

asio::awaitable<void> Engine::wait_for_drain() {
  const auto deadline = std::chrono::steady_clock::now() + active_->serving.timeouts.drain;
  asio::steady_timer timer(control_);
  // Connections and the settles of requests already answered (nothing accepted is left unsettled).
  auto remaining = [this](int& open, uint64_t& settles) {
    open = 0;
    settles = 0;
    for (auto& w : workers_) {
      open += w->open_connections();
      settles += w->settles().pending();
    }
  };
  int open = 0;
  uint64_t settles = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    remaining(open, settles);
    if (open == 0 && settles == 0) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  remaining(open, settles);
  if (open > 0 || settles > 0)
    log::warn("drain deadline reached; closing remaining connections",
              json::ObjectWriter().field("open", open).field("settles_pending", settles));
  admin_->stop();
  control_.stop();
}

asio::awaitable<telemetry::RequestMetrics> Engine::merged_metrics() {
  telemetry::RequestMetrics total;
  for (auto& w : workers_) total.merge(co_await w->metrics_copy());
  co_return total;
}

std::string Engine::render_metrics_header() const {
  namespace prometheus = core::prometheus;
  std::string out;
  prometheus::family(out, "tollway_build_info", "gauge", "The running tollway version.");
  prometheus::sample(out, "tollway_build_info", prometheus::labels({{"version", kVersion}}), 1);
  prometheus::family(out, "tollway_config_info", "gauge",
                     "The active config version (label) and its generation (value).");
  prometheus::sample(out, "tollway_config_info", prometheus::labels({{"version", active_->version}}),
                     active_->generation);
  prometheus::family(out, "tollway_config_reloads_total", "counter", "Config reloads attempted, by result.");
  prometheus::sample(out, "tollway_config_reloads_total", prometheus::labels({{"result", "success"}}),
                     reload_success_);
  prometheus::sample(out, "tollway_config_reloads_total", prometheus::labels({{"result", "failure"}}),
                     reload_failure_);
  prometheus::family(out, "tollway_open_connections", "gauge", "Client connections open now.");
  int open = 0;
  for (const auto& w : workers_) open += w->open_connections();
  prometheus::sample_text(out, "tollway_open_connections", "", std::to_string(open));
  prometheus::family(out, "tollway_tls_handshake_failures_total", "counter",
                     "TLS handshakes on a listener that failed, were refused or timed out, by reason.");
  for (std::size_t l = 0; l < active_->serving.listeners.size(); ++l) {
    for (const tls::HandshakeRefusal reason : tls::kAllHandshakeRefusals) {
      uint64_t failures = 0;
      for (const auto& w : workers_) failures += w->handshake_refusals(l).count(reason);
      prometheus::sample(out, "tollway_tls_handshake_failures_total",
                         prometheus::labels({{"listener", active_->serving.listeners[l].name},
                                             {"reason", tls::refusal_name(reason)}}),
                         failures);
    }
  }
  for (const tls::HandshakeRefusal reason : tls::kAllHandshakeRefusals)
    prometheus::sample(out, "tollway_tls_handshake_failures_total",
                       prometheus::labels({{"listener", "admin"}, {"reason", tls::refusal_name(reason)}}),
                       admin_->handshake_refusals().count(reason));
  prometheus::family(out, "tollway_accept_errors_total", "counter",
                     "Failed accepts on a listener, by reason (emfile, enfile and enobufs pause accepting "
                     "for 100 ms).");
  for (std::size_t l = 0; l < active_->serving.listeners.size(); ++l) {
    for (const AcceptError reason : kAllAcceptErrors) {
      uint64_t failures = 0;
      for (const auto& w : workers_) failures += w->accept_errors(l).count(reason);
      prometheus::sample(out, "tollway_accept_errors_total",
                         prometheus::labels({{"listener", active_->serving.listeners[l].name},
                                             {"reason", accept_error_name(reason)}}),
                         failures);
    }
  }
  for (const AcceptError reason : kAllAcceptErrors)
    prometheus::sample(out, "tollway_accept_errors_total",
                       prometheus::labels({{"listener", "admin"}, {"reason", accept_error_name(reason)}}),
                       admin_->accept_errors().count(reason));
  prometheus::family(out, "tollway_connections_refused_total", "counter",
                     "Client connections closed at accept for being over a connection limit, by limit.");
  for (const ConnectionRefusal reason : kAllConnectionRefusals)
    prometheus::sample(out, "tollway_connections_refused_total",
                       prometheus::labels({{"reason", refusal_name(reason)}}), admission_.refused(reason));
  prometheus::family(out, "tollway_requests_in_flight", "gauge", "Requests being handled now.");
  prometheus::sample(out, "tollway_requests_in_flight", "", admission_.requests_in_flight());
  prometheus::family(out, "tollway_requests_shed_total", "counter",
                     "Requests answered 503 overloaded for being over limits.max_requests_in_flight.");
  prometheus::sample(out, "tollway_requests_shed_total", "", admission_.shed_requests());
  uint64_t settles_pending = 0, settles_background = 0, settles_in_line = 0;
  for (const auto& w : workers_) {
    settles_pending += w->settles().pending();
    settles_background += w->settles().started();
    settles_in_line += w->settles().settled_in_line();
  }
  prometheus::family(out, "tollway_settles_pending", "gauge",
                     "Requests answered whose settle (a strict-ledger round trip) has not finished yet.");
  prometheus::sample(out, "tollway_settles_pending", "", settles_pending);
  prometheus::family(out, "tollway_settles_total", "counter",
                     "Settles that wait on I/O, by where they ran: background (beside the connection's next "
                     "request) or in_line (the worker had 1024 pending: the connection waited).");
  prometheus::sample(out, "tollway_settles_total", prometheus::labels({{"mode", "background"}}),
                     settles_background);
  prometheus::sample(out, "tollway_settles_total", prometheus::labels({{"mode", "in_line"}}), settles_in_line);
  prometheus::family(out, "tollway_draining", "gauge", "1 while the process drains for shutdown.");
  prometheus::sample(out, "tollway_draining", "", draining_ ? 1 : 0);
  return out;
}

asio::awaitable<AdminResponse> Engine::admin(const AdminRequest& request) {
  const std::string_view path = request.path;
  for (const auto& route : services_.admin_routes) {
    if (path.starts_with(route.prefix)) co_return co_await route.handler(request);
  }
  if (request.method != "GET" && request.method != "HEAD")
    co_return AdminResponse{405, "text/plain", "use GET\n", {{"Allow", "GET, HEAD"}}};
  if (path == "/healthz") co_return AdminResponse{200, "text/plain", "ok\n", {}};
  if (path == "/readyz") {
    if (draining_) co_return AdminResponse{503, "text/plain", "draining\n", {}};
    if (!ready_) co_return AdminResponse{503, "text/plain", "starting\n", {}};
    co_return AdminResponse{200, "text/plain", "ready\n", {}};
  }
  if (path == "/config") {
    json::ObjectWriter w;
    w.field("version", active_->version)
        .field("generation", active_->generation)
        .field("loaded_at", iso_time(active_->loaded_at))
        .field("source", active_->source)
        .field("reloads_failed", reload_failure_);
    if (!active_->source_version.empty()) w.field("source_version", active_->source_version);
    if (!last_reload_error_.empty()) w.field("last_reload_error", last_reload_error_);
    co_return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
  }
  if (path == "/metrics") {
    const telemetry::RequestMetrics total = co_await merged_metrics();
    std::string body = render_metrics_header();
    total.render(body);
    for (const auto& render : services_.metrics) render(body);
    source_->render_metrics(body);
    if (options_.identity) options_.identity->render_metrics(body);
    co_return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body), {}};
  }
  co_return AdminResponse{
      404, "text/plain", "not found; the admin listener serves /healthz /readyz /config /metrics\n", {}};
}

}  // namespace

int run_engine(Role& role, const EngineOptions& options,
               const std::function<std::unique_ptr<ConfigSource>(asio::io_context&)>& make_source) {
  Engine engine(role, options);
  return engine.run(make_source);
}

}  // namespace tollway::proxy
