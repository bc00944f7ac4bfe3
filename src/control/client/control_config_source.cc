#include "control/client/control_config_source.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.h"
#include "core/strict_json.h"
#include "control/client/control_http.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/version.h"

namespace tollway::control {
namespace {

namespace asio = boost::asio;

constexpr std::size_t kMaxSnapshotBytes = 8 << 20;
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kLastBackoff = std::chrono::milliseconds(10'000);

std::string base(const std::string& url) {
  std::string b = url;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// This process's CPU time (user + system, milliseconds precision) and resident memory, for the fleet's view of what
// a node costs (`tollway advise`); "" when either cannot be read.
std::string process_usage_query() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return {};
  const int64_t cpu_ms = (static_cast<int64_t>(usage.ru_utime.tv_sec) + usage.ru_stime.tv_sec) * 1000 +
                         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000;
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return {};
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return {};
  return "&cpu_ms=" + std::to_string(cpu_ms) + "&rss_bytes=" + std::to_string(resident * static_cast<uint64_t>(page_size));
}

// A poll: the version the node runs, its build, its CPU time and resident memory and, with an identity, its
// certificate's validity in Unix seconds (the fleet shows when it expires; the poll is sent again after every
// renewal, an ACK only with a new version).
std::string snapshot_url(const ControlClientOptions& options, const std::string& url, const std::string& have) {
  std::string u = base(url) + "/v1/snapshot?node=" + options.node + "&have=" + have + "&build=" + kVersion +
                  process_usage_query();
  if (options.identity) {
    const auto period = options.identity->certificate_period();
    u += "&cert_not_before=" + std::to_string(unix_seconds(period.not_before)) +
         "&cert_not_after=" + std::to_string(unix_seconds(period.not_after));
  }
  return u;
}

// A 200 answer of /v1/snapshot, or nullopt with `error`.
std::optional<ReceivedSnapshot> parse_snapshot(const std::string& body, std::string& error) {
  core::strict_json::ParseLimits limits;
  limits.max_bytes = kMaxSnapshotBytes;
  const auto value = core::strict_json::parse(body, error, limits);
  if (!value || !value->is_object()) {
    if (error.empty()) error = "not a JSON object";
    return std::nullopt;
  }
  ReceivedSnapshot s;
  for (auto [name, field] : {std::pair{"version", &s.version}, std::pair{"revision", &s.revision},
                             std::pair{"nonce", &s.nonce}, std::pair{"document", &s.document}}) {
    const auto v = value->string_member(name);
    if (!v || (v->empty() && std::string_view(name) != "revision")) {
      error = std::string("the snapshot has no \"") + name + "\" string";
      return std::nullopt;
    }
    *field = std::string(*v);
  }
  return s;
}

// The node's client TLS for the control plane, null without an identity.
std::shared_ptr<asio::ssl::context> control_tls(const ControlClientOptions& options) {
  return options.identity ? options.identity->control_tls() : nullptr;
}

// The SPIFFE ID the control plane must present, "" without an identity.
std::string control_spiffe_id(const ControlClientOptions& options) {
  return options.identity ? options.identity->control_spiffe_id() : std::string();
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

}  // namespace

std::string persisted_snapshot_path(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "snapshot.yaml").string();
}

std::optional<std::string> read_persisted_snapshot(const std::string& state_dir) {
  std::ifstream in(persisted_snapshot_path(state_dir), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

std::optional<ReceivedSnapshot> fetch_first_snapshot(const ControlClientOptions& options,
                                                     std::chrono::milliseconds timeout, std::string& error) {
  asio::io_context context(1);
  std::optional<ReceivedSnapshot> received;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        for (const auto& url : options.urls) {
          // `have` empty: the control plane answers at once with the node's snapshot.
          ControlReply reply = co_await control_request("GET", snapshot_url(options, url, ""), options.token,
                                                        {}, timeout, kMaxSnapshotBytes, control_tls(options),
                                                        control_spiffe_id(options));
          if (!reply.ok) {
            error += (error.empty() ? "" : "; ") + base(url) + ": " + reply.error;
            continue;
          }
          if (reply.status != 200) {
            error += (error.empty() ? "" : "; ") + base(url) + ": HTTP " + std::to_string(reply.status);
            continue;
          }
          std::string why;
          received = parse_snapshot(reply.body, why);
          if (received) co_return;
          error += (error.empty() ? "" : "; ") + base(url) + ": " + why;
        }
      },
      asio::detached);
  context.run();
  return received;
}

ControlConfigSource::ControlConfigSource(asio::io_context& context, ControlClientOptions options,
                                         std::string document, std::optional<ReceivedSnapshot> received,
                                         std::optional<ReceivedSnapshot> refused,
                                         std::vector<std::string> refused_errors)
    : options_(std::move(options)),
      origin_(persisted_snapshot_path(options_.state_dir)),
      timer_(context),
      document_(std::move(document)),
      offered_(std::move(received)),
      random_(std::random_device{}()) {
  persisted_ = read_persisted_snapshot(options_.state_dir).value_or("");
  if (refused) {
    report_ = Report{refused->version, refused->nonce, join_lines(refused_errors)};
    ++updates_rejected_;
  }
  connected_ = offered_.has_value() || refused.has_value();
}

std::optional<proxy::ConfigDocument> ControlConfigSource::read(std::string&) {
  return proxy::ConfigDocument{document_, origin_, config::document_version(document_)};
}

void ControlConfigSource::cancel() {
  cancelled_ = true;
  timer_.cancel();
}

void ControlConfigSource::persist(const std::string& document) {
  if (document == persisted_) return;
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  const std::string tmp = origin_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  std::size_t written = 0;
  while (ok && written < document.size()) {
    const ssize_t n = ::write(fd, document.data() + written, document.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  ok = ok && ::rename(tmp.c_str(), origin_.c_str()) == 0;
  if (ok) {
    const int dir = ::open(options_.state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    persisted_ = document;
  } else {
    log::warn("cannot persist the applied snapshot; a restart without a control plane would not find it",
              json::ObjectWriter().field("path", origin_).field("error", std::strerror(errno)));
  }
}

// `version` is the engine's resolved version (environment and files at this node included); the control plane
// knows the document by its own version, which is what the ACK and the next poll's `have` report.
void ControlConfigSource::applied(const std::string&, const std::vector<std::string>& errors) {
  if (errors.empty()) {
    applied_document_ = document_;
    const std::string version = config::document_version(document_);
    applied_version_ = version;
    persist(document_);
    counts_rebase_ = true;
    if (offered_) {
      report_ = Report{version, offered_->nonce, std::nullopt};
      ++updates_applied_;
    }
  } else if (offered_) {
    report_ = Report{offered_->version, offered_->nonce, join_lines(errors)};
    ++updates_rejected_;
    document_ = applied_document_;  // a later reload (SIGHUP, certificate change) reapplies what runs
  }
  offered_.reset();
}

void ControlConfigSource::set_connected(bool connected, const std::string& why) {
  if (connected == connected_) return;
  connected_ = connected;
  if (connected)
    log::info("connected to the control plane", json::ObjectWriter().field("url", base(options_.urls[url_index_])));
  else
    log::warn("control plane unreachable; serving the last applied snapshot",
              json::ObjectWriter()
                  .field("url", base(options_.urls[url_index_]))
                  .field("error", why)
                  .field("config_version", applied_version_));
}

asio::awaitable<void> ControlConfigSource::back_off() {
  backoff_ = backoff_ == std::chrono::milliseconds(0) ? kFirstBackoff : std::min(backoff_ * 2, kLastBackoff);
  // Full jitter over the upper half, so that a fleet reconnecting at once spreads out.
  std::uniform_int_distribution<int64_t> pick(backoff_.count() / 2, backoff_.count());
  url_index_ = (url_index_ + 1) % options_.urls.size();
  timer_.expires_after(std::chrono::milliseconds(pick(random_)));
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// True when the report was delivered or dropped; false when no control plane took it (kept for the next try).
asio::awaitable<bool> ControlConfigSource::send_report() {
  json::ObjectWriter w;
  w.field("node", options_.node).field("version", report_->version).field("nonce", report_->nonce);
  if (report_->error) w.field("error", *report_->error);
  const std::string body = std::move(w).finish();
  ControlReply reply = co_await control_request("POST", base(options_.urls[url_index_]) + "/v1/ack", options_.token,
                                                body, std::chrono::milliseconds(10'000), 64 << 10, control_tls(options_),
                                                control_spiffe_id(options_));
  if (!reply.ok || reply.status >= 500) {
    set_connected(false, reply.ok ? "HTTP " + std::to_string(reply.status) : reply.error);
    co_return false;
  }
  if (reply.status != 200)
    log::warn("the control plane refused the ACK",
              json::ObjectWriter().field("status", reply.status).field("version", report_->version));
  report_.reset();
  co_return true;
}

asio::awaitable<bool> ControlConfigSource::changed() {
  while (!cancelled_) {
    if (report_) {
      const bool delivered = co_await send_report();  // (GCC 12 miscompiles a co_await inside a condition)
      if (!delivered) {
        co_await back_off();
        continue;
      }
    }
    if (cancelled_) break;
    std::string url = snapshot_url(options_, options_.urls[url_index_], applied_version_);
    if (count_responses_) {
      const proxy::ResponseCounts now = co_await count_responses_();
      if (counts_rebase_) {
        counts_at_apply_ = now;
        counts_rebase_ = false;
      }
      url += "&requests=" + std::to_string(now.requests - counts_at_apply_.requests) +
             "&errors=" + std::to_string(now.errors - counts_at_apply_.errors) +
             "&denials=" + std::to_string(now.denials - counts_at_apply_.denials);
    }
    ControlReply reply = co_await control_request(
        "GET", url, options_.token, {},
        options_.request_timeout, kMaxSnapshotBytes, control_tls(options_), control_spiffe_id(options_));
    if (cancelled_) break;
    if (!reply.ok || reply.status >= 500) {
      set_connected(false, reply.ok ? "HTTP " + std::to_string(reply.status) : reply.error);
      co_await back_off();
      continue;
    }
    if (reply.status == 304) {
      set_connected(true, "");
      backoff_ = std::chrono::milliseconds(0);
      continue;
    }
    std::string why;
    std::optional<ReceivedSnapshot> snapshot;
    if (reply.status == 200) snapshot = parse_snapshot(reply.body, why);
    else why = "HTTP " + std::to_string(reply.status) + (reply.status == 401 ? " (node ID or token refused)" : "");
    if (!snapshot) {
      ++updates_failed_;
      log::warn("unusable answer from the control plane; keeping the applied snapshot",
                json::ObjectWriter().field("url", base(options_.urls[url_index_])).field("error", why));
      co_await back_off();
      continue;
    }
    set_connected(true, "");
    backoff_ = std::chrono::milliseconds(0);
    log::info("snapshot received from the control plane",
              json::ObjectWriter().field("version", snapshot->version).field("revision", snapshot->revision));
    document_ = snapshot->document;
    offered_ = std::move(snapshot);
    co_return true;
  }
  co_return false;
}

void ControlConfigSource::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  constexpr std::string_view kUpdates = "tollway_control_updates_total";
  prometheus::family(out, kUpdates, "counter",
                     "Snapshots received from the control plane, by result: applied (and ACKed), rejected (NACKed "
                     "with the config errors) or failed (an unusable answer).");
  prometheus::sample(out, kUpdates, prometheus::labels({{"result", "applied"}}), updates_applied_);
  prometheus::sample(out, kUpdates, prometheus::labels({{"result", "rejected"}}), updates_rejected_);
  prometheus::sample(out, kUpdates, prometheus::labels({{"result", "failed"}}), updates_failed_);
  prometheus::family(out, "tollway_control_connected", "gauge",
                     "1 while the last exchange with a control plane succeeded.");
  prometheus::sample(out, "tollway_control_connected", "", connected_ ? 1 : 0);
}

}  // namespace tollway::control
