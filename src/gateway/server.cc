#include "gateway/server.h"

#include <sys/stat.h>

#include <boost/asio.hpp>

#include <atomic>
#include <ctime>
#include <iostream>
#include <thread>

#include "config/embedded_config.h"
#include "config/loader.h"
#include "core/log.h"
#include "core/version.h"
#include "gateway/admin.h"
#include "gateway/assembly.h"
#include "gateway/services.h"
#include "gateway/worker.h"

namespace tollway::gateway {
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

std::string endpoint_text(const tcp::endpoint& e) {
  if (e.address().is_v6()) return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  return e.address().to_string() + ":" + std::to_string(e.port());
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size, st.st_ino};
}

// Everything the control thread owns.
class Gateway {
 public:
  explicit Gateway(GatewayOptions options) : options_(std::move(options)) {}

  int run();

 private:
  std::optional<std::shared_ptr<const config::GatewayConfig>> load(std::vector<std::string>& errors);
  // No --config: the default config compiled into the binary, which never changes (SIGHUP only says so).
  bool embedded_config() const { return options_.config_path.empty(); }
  asio::awaitable<void> reload(const char* trigger);
  void start_drain(const char* signal_name);
  asio::awaitable<void> watch_signals();
  asio::awaitable<void> watch_file();
  asio::awaitable<void> wait_for_drain();
  asio::awaitable<telemetry::RequestMetrics> merged_metrics();
  asio::awaitable<void> export_metrics();
  asio::awaitable<AdminResponse> admin(const AdminRequest& request);
  std::string render_metrics_header() const;

  GatewayOptions options_;
  asio::io_context control_{1};
  // Installed when the Gateway is made, before "gateway ready" is logged: a signal sent right after that line
  // must reach the drain logic, not the default action.
  asio::signal_set signals_{control_, SIGHUP, SIGTERM, SIGINT};  // and SIGUSR1, added at start
  Services services_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<AdminListener> admin_;
  std::shared_ptr<const pipeline::Snapshot> active_;
  FileStamp file_stamp_;
  uint64_t reload_success_ = 0;
  uint64_t reload_failure_ = 0;
  std::string last_reload_error_;
  bool draining_ = false;
};

std::optional<std::shared_ptr<const config::GatewayConfig>> Gateway::load(std::vector<std::string>& errors) {
  auto result = embedded_config() ? config::load_embedded_gateway_config()
                                  : config::load_gateway_config_file(options_.config_path);
  if (!result.config) {
    for (const auto& e : result.errors) errors.push_back(e.to_string());
    return std::nullopt;
  }
  auto& c = *result.config;
  for (auto [flag, value, target] : {std::tuple{"--listen", &options_.listen, &c.listen},
                                      std::tuple{"--admin", &options_.admin, &c.admin}}) {
    if (!*value) continue;
    auto parsed = config::parse_listen_address(**value);
    if (!parsed) {
      errors.push_back(std::string(flag) + ": \"" + **value + "\" is not HOST:PORT");
      return std::nullopt;
    }
    *target = *parsed;
  }
  if (options_.workers) c.workers = *options_.workers;
  if (c.workers == 0) c.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::make_shared<const config::GatewayConfig>(std::move(c));
}

int Gateway::run() {
  signals_.add(SIGUSR1);  // asio's constructor takes three signals
  if (!embedded_config()) file_stamp_ = stamp_of(options_.config_path);
  services_.control = &control_;
  std::vector<std::string> errors;
  auto config = load(errors);
  if (!config) {
    for (const auto& e : errors) std::cerr << e << "\n";
    return 1;
  }
  std::string error;
  active_ = build_snapshot(*config, 1, services_, error);
  if (!active_) {
    std::cerr << (embedded_config() ? std::string(config::kEmbeddedConfigName) : options_.config_path) << ": " << error
              << "\n";
    return 1;
  }
  const auto& c = *active_->config;
  auto listen = resolve_listen(c.listen);
  auto admin = resolve_listen(c.admin);
  if (!listen || !admin) {
    std::cerr << "cannot use the listen or admin address (IP literals or localhost)\n";
    return 1;
  }
  try {
    for (int i = 0; i < c.workers; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, active_));
      // Port 0: the first worker's ephemeral port is shared by the others through SO_REUSEPORT.
      workers_.back()->listen(i == 0 ? *listen : workers_.front()->local_endpoint());
    }
    admin_ = std::make_unique<AdminListener>(control_, *admin,
                                             [this](const AdminRequest& r) { return this->admin(r); });
  } catch (const std::exception& e) {
    std::cerr << "cannot listen: " << e.what() << "\n";
    return 1;
  }
  for (auto& w : workers_) w->start();
  admin_->start();
  asio::co_spawn(control_, watch_signals(), asio::detached);
  if (!embedded_config()) asio::co_spawn(control_, watch_file(), asio::detached);
  if (services_.telemetry && services_.telemetry->exporting()) asio::co_spawn(control_, export_metrics(), asio::detached);
  log::info("gateway ready", json::ObjectWriter()
                                 .field("listen", endpoint_text(workers_.front()->local_endpoint()))
                                 .field("admin", endpoint_text(admin_->local_endpoint()))
                                 .field("workers", c.workers)
                                 .field("config", c.source)
                                 .field("config_version", c.version)
                                 .field("tollway_version", kVersion));
  control_.run();
  for (auto& w : workers_) w->stop_and_join();
  log::info("gateway stopped");
  return 0;
}

asio::awaitable<void> Gateway::reload(const char* trigger) {
  if (draining_) co_return;
  std::vector<std::string> errors;
  auto config = load(errors);
  std::shared_ptr<const pipeline::Snapshot> next;
  if (config) {
    std::string error;
    next = build_snapshot(*config, active_->generation + 1, services_, error);
    if (!next) errors.push_back(error);
  }
  if (!next) {
    ++reload_failure_;
    last_reload_error_ = errors.empty() ? "unknown error" : errors.front();
    for (const auto& e : errors)
      log::warn("config reload rejected; the previous config stays active",
                json::ObjectWriter().field("trigger", trigger).field("error", e).field("active_version",
                                                                                       active_->config->version));
    co_return;
  }
  const auto& old = *active_->config;
  if (next->config->listen.to_string() != old.listen.to_string() ||
      next->config->admin.to_string() != old.admin.to_string() || next->config->workers != old.workers)
    log::warn("listen, admin and workers changes take effect at the next restart");
  // Every worker swaps before the new version is reported (in /config, logs), so what is reported is applied.
  for (auto& w : workers_) co_await w->apply_snapshot(next);
  active_ = next;
  ++reload_success_;
  last_reload_error_.clear();
  log::info("config reloaded", json::ObjectWriter()
                                   .field("trigger", trigger)
                                   .field("config_version", next->config->version)
                                   .field("generation", next->generation));
}

asio::awaitable<void> Gateway::watch_signals() {
  auto& signals = signals_;
  while (!draining_) {
    boost::system::error_code ec;
    const int sig = co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (sig == SIGHUP && embedded_config()) {
      log::info("SIGHUP: nothing to reload, the gateway runs the embedded default config (start it with --config "
                "FILE to reload a file)",
                json::ObjectWriter().field("trigger", "SIGHUP").field("config_version", active_->config->version));
    } else if (sig == SIGHUP) {
      file_stamp_ = stamp_of(options_.config_path);
      co_await reload("SIGHUP");
    } else if (sig == SIGUSR1) {
      // Log rotation: the access and decision log files are reopened by the telemetry thread.
      if (services_.telemetry) services_.telemetry->reopen_logs();
      log::info("reopening the telemetry log files", json::ObjectWriter().field("trigger", "SIGUSR1"));
    } else {
      start_drain(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
  }
}

// Polls the config file; a change is applied once two polls 500 ms apart agree on it, so an editor's
// truncate-then-write is not reloaded half-written.
asio::awaitable<void> Gateway::watch_file() {
  asio::steady_timer timer(control_);
  FileStamp candidate = file_stamp_;
  while (!draining_) {
    timer.expires_after(std::chrono::milliseconds(500));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const FileStamp now = stamp_of(options_.config_path);
    if (now == file_stamp_ || now.size < 0) {
      candidate = file_stamp_;
    } else if (now == candidate) {
      file_stamp_ = now;
      co_await reload("file change");
    } else {
      candidate = now;
    }
  }
}

void Gateway::start_drain(const char* signal_name) {
  if (draining_) return;
  draining_ = true;
  log::info("draining", json::ObjectWriter()
                            .field("signal", signal_name)
                            .field("deadline_ms", static_cast<int64_t>(active_->config->timeouts.drain.count())));
  for (auto& w : workers_) w->post_drain();
  asio::co_spawn(control_, wait_for_drain(), asio::detached);
}

asio::awaitable<void> Gateway::wait_for_drain() {
  const auto deadline = std::chrono::steady_clock::now() + active_->config->timeouts.drain;
  asio::steady_timer timer(control_);
  while (std::chrono::steady_clock::now() < deadline) {
    int open = 0;
    for (auto& w : workers_) open += w->open_connections();
    if (open == 0) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  int open = 0;
  for (auto& w : workers_) open += w->open_connections();
  if (open > 0) log::warn("drain deadline reached; closing remaining connections", json::ObjectWriter().field("open", open));
  admin_->stop();
  control_.stop();
}

asio::awaitable<telemetry::RequestMetrics> Gateway::merged_metrics() {
  telemetry::RequestMetrics total;
  for (auto& w : workers_) total.merge(co_await w->metrics_copy());
  co_return total;
}

// Every telemetry.otlp.metrics_interval: the workers' merged per-call series, offered to the OTLP exporter thread
// (cumulative since the start; the exporter sends the latest offer).
asio::awaitable<void> Gateway::export_metrics() {
  const auto unix_nano = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
  const uint64_t start = unix_nano();
  asio::steady_timer timer(control_);
  while (!draining_) {
    timer.expires_after(services_.telemetry->settings().otlp.metrics_interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || draining_) co_return;
    const telemetry::RequestMetrics total = co_await merged_metrics();
    std::vector<telemetry::Metric> metrics;
    total.calls().append_otlp(metrics, start, unix_nano());
    services_.telemetry->offer_metrics(std::move(metrics));
  }
}

std::string Gateway::render_metrics_header() const {
  const auto& c = *active_->config;
  std::string out;
  out += "# HELP tollway_build_info The running tollway version.\n# TYPE tollway_build_info gauge\n";
  out += std::string("tollway_build_info{version=\"") + kVersion + "\"} 1\n";
  out += "# HELP tollway_config_info The active config version (label) and its generation (value).\n";
  out += "# TYPE tollway_config_info gauge\n";
  out += "tollway_config_info{version=\"" + c.version + "\"} " + std::to_string(active_->generation) + "\n";
  out += "# HELP tollway_config_reloads_total Config reloads attempted, by result.\n";
  out += "# TYPE tollway_config_reloads_total counter\n";
  out += "tollway_config_reloads_total{result=\"success\"} " + std::to_string(reload_success_) + "\n";
  out += "tollway_config_reloads_total{result=\"failure\"} " + std::to_string(reload_failure_) + "\n";
  out += "# HELP tollway_open_connections Client connections open now.\n# TYPE tollway_open_connections gauge\n";
  int open = 0;
  for (const auto& w : workers_) open += w->open_connections();
  out += "tollway_open_connections " + std::to_string(open) + "\n";
  out += "# HELP tollway_draining 1 while the gateway drains for shutdown.\n# TYPE tollway_draining gauge\n";
  out += std::string("tollway_draining ") + (draining_ ? "1" : "0") + "\n";
  return out;
}

asio::awaitable<AdminResponse> Gateway::admin(const AdminRequest& request) {
  const std::string_view path = request.path;
  for (const auto& route : services_.admin_routes) {
    if (path.starts_with(route.prefix)) co_return co_await route.handler(request);
  }
  if (request.method != "GET" && request.method != "HEAD")
    co_return AdminResponse{405, "text/plain", "use GET\n", {{"Allow", "GET, HEAD"}}};
  if (path == "/healthz") co_return AdminResponse{200, "text/plain", "ok\n", {}};
  if (path == "/readyz") {
    if (draining_) co_return AdminResponse{503, "text/plain", "draining\n", {}};
    co_return AdminResponse{200, "text/plain", "ready\n", {}};
  }
  if (path == "/config") {
    json::ObjectWriter w;
    w.field("version", active_->config->version)
        .field("generation", active_->generation)
        .field("loaded_at", iso_time(active_->loaded_at))
        .field("source", active_->config->source)
        .field("reloads_failed", reload_failure_);
    if (!last_reload_error_.empty()) w.field("last_reload_error", last_reload_error_);
    co_return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
  }
  if (path == "/metrics") {
    const telemetry::RequestMetrics total = co_await merged_metrics();
    std::string body = render_metrics_header();
    total.render(body);
    for (const auto& render : services_.metrics) render(body);
    co_return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body), {}};
  }
  co_return AdminResponse{404, "text/plain", "not found; the admin listener serves /healthz /readyz /config /metrics\n",
                          {}};
}

}  // namespace

int run_gateway(const GatewayOptions& options) {
  Gateway gateway(options);
  return gateway.run();
}

}  // namespace tollway::gateway
