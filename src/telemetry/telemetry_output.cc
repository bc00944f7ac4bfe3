#include "telemetry/telemetry_output.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "core/log.h"
#include "telemetry/export_retry.h"
#include "telemetry/otlp_http.h"
#include "telemetry/record_format.h"

namespace tollway::telemetry {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(10);
enum Signal { kTraces, kMetrics };
enum Result { kSuccess, kPartial, kRetry, kDropped };
constexpr const char* kResultNames[] = {"success", "partial_success", "retried", "dropped"};

int open_destination(const config::LogDestination& d) {
  switch (d.kind) {
    case config::LogDestination::Off: return -1;
    case config::LogDestination::Stdout: return STDOUT_FILENO;
    case config::LogDestination::Stderr: return STDERR_FILENO;
    case config::LogDestination::File: {
      const int fd = ::open(d.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
      if (fd < 0)
        log::error("cannot open a telemetry log file; its lines are dropped",
                   json::ObjectWriter().field("path", d.path).field("error", std::strerror(errno)));
      return fd;
    }
  }
  return -1;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TelemetryOutput::TelemetryOutput(const config::TelemetryConfig& config, std::string service_version)
    : config_(config),
      access_log_(config.access_log.kind != config::LogDestination::Off),
      decision_log_(config.decision_log.kind != config::LogDestination::Off),
      exporting_(!config.otlp.endpoint.empty()),
      resource_(Resource::for_service(config.service_name, service_version, generate_span_id().hex())),
      scope_{"tollway", service_version},
      records_(config.otlp.queue_size),
      spans_(config.otlp.queue_size) {
  access_fd_ = open_destination(config.access_log);
  decision_fd_ = config.decision_log == config.access_log ? access_fd_ : open_destination(config.decision_log);
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tw-telemetry");  // visible in top -H and /proc/PID/task/*/comm
    write_loop();
  });
  if (exporting_)
    exporter_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tw-otlp");
      export_loop();
    });
}

TelemetryOutput::~TelemetryOutput() {
  // The writer first (it turns the last records into spans), then the exporter (it sends what is left once).
  stop_writer_.store(true, std::memory_order_release);
  if (writer_.joinable()) writer_.join();
  stop_exporter_.store(true, std::memory_order_release);
  if (exporter_.joinable()) exporter_.join();
  if (access_fd_ > STDERR_FILENO) ::close(access_fd_);
  if (decision_fd_ > STDERR_FILENO && decision_fd_ != access_fd_) ::close(decision_fd_);
}

bool TelemetryOutput::submit(RequestRecord&& record) { return records_.try_push(std::move(record)); }

void TelemetryOutput::offer_metrics(std::vector<Metric> metrics) {
  std::lock_guard lock(metrics_mutex_);
  pending_metrics_ = std::move(metrics);
}

void TelemetryOutput::flush(int fd, std::string& pending) {
  if (pending.empty()) return;
  if (fd >= 0) {
    std::string_view left = pending;
    while (!left.empty()) {
      const ssize_t n = ::write(fd, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        log_write_errors_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      left.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  pending.clear();
}

void TelemetryOutput::write_line(const config::LogDestination& where, int fd, std::string& pending,
                                 const std::string& line) {
  pending.append(line).push_back('\n');
  log_lines_.fetch_add(1, std::memory_order_relaxed);
  // stderr is shared with the operational log: one write per line keeps lines whole (atomic pipe writes).
  if (where.kind == config::LogDestination::Stderr || pending.size() >= 64 * 1024) flush(fd, pending);
}

void TelemetryOutput::write_loop() {
  std::vector<RequestRecord> batch;
  std::vector<Span> spans;
  std::string access_pending, decision_pending;
  const bool shared_fd = decision_fd_ == access_fd_;
  while (true) {
    const bool stopping = stop_writer_.load(std::memory_order_acquire);
    batch.clear();
    records_.drain(batch, 1024);
    for (const RequestRecord& r : batch) {
      if (access_log_) write_line(config_.access_log, access_fd_, access_pending, access_log_line(r));
      if (r.denied && decision_log_)
        write_line(config_.decision_log, decision_fd_, shared_fd ? access_pending : decision_pending,
                   decision_log_line(r));
      if (r.sampled && exporting_) {
        spans.clear();
        append_spans(r, spans);
        for (Span& s : spans) spans_.try_push(std::move(s));  // a full queue counts the drop
      }
    }
    flush(access_fd_, access_pending);
    flush(decision_fd_, decision_pending);
    if (batch.empty()) {
      if (stopping) return;
      std::this_thread::sleep_for(kPoll);
    }
  }
}

void TelemetryOutput::export_payload(const char* signal, const std::string& path, const std::string& json,
                                     uint64_t items) {
  const Signal s = std::string_view(signal) == "traces" ? kTraces : kMetrics;
  auto& failed = s == kTraces ? spans_failed_ : points_failed_;
  std::string compressed;
  try {
    if (config_.otlp.gzip) compressed = gzip_compress(json);
  } catch (const std::exception& e) {
    log::error("OTLP export: compression failed", json::ObjectWriter().field("error", e.what()));
    failed.fetch_add(items, std::memory_order_relaxed);
    return;
  }
  ExportRetryPolicy policy;
  policy.max_backoff = std::min(policy.max_backoff, config_.otlp.timeout * 3);
  std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (int attempt = 1;; ++attempt) {
    const HttpPostResult r = http_post(config_.otlp.host, config_.otlp.port, path, "application/json",
                                       config_.otlp.gzip, config_.otlp.gzip ? compressed : json, config_.otlp.timeout);
    ExportAttempt a;
    a.status = r.status;
    a.retry_after = r.retry_after;
    ExportResponse response;
    if (r.status && *r.status >= 200 && *r.status < 300) {
      response = parse_export_response(r.body);
      a.partial_success = response.partial_success;
    }
    const ExportDecision d = decide_export_retry(a, attempt, policy, uniform(random), unix_seconds());
    switch (d.verdict) {
      case ExportVerdict::Success:
        exports_[s][kSuccess].fetch_add(1, std::memory_order_relaxed);
        (s == kTraces ? spans_exported_ : points_exported_).fetch_add(items, std::memory_order_relaxed);
        return;
      case ExportVerdict::PartialSuccess:
        exports_[s][kPartial].fetch_add(1, std::memory_order_relaxed);
        if (s == kTraces) spans_rejected_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, response.rejected)));
        log::warn("OTLP export partially rejected; not retried",
                  json::ObjectWriter()
                      .field("signal", signal)
                      .field("rejected", response.rejected)
                      .field("error_message", response.error_message));
        return;
      case ExportVerdict::Retry: {
        exports_[s][kRetry].fetch_add(1, std::memory_order_relaxed);
        const auto until = Clock::now() + d.delay;
        while (Clock::now() < until) {
          if (stop_exporter_.load(std::memory_order_acquire)) {
            exports_[s][kDropped].fetch_add(1, std::memory_order_relaxed);
            failed.fetch_add(items, std::memory_order_relaxed);
            return;
          }
          std::this_thread::sleep_for(kPoll);
        }
        continue;
      }
      case ExportVerdict::GiveUp:
      case ExportVerdict::Drop:
        exports_[s][kDropped].fetch_add(1, std::memory_order_relaxed);
        failed.fetch_add(items, std::memory_order_relaxed);
        log::warn("OTLP export dropped",
                  json::ObjectWriter()
                      .field("signal", signal)
                      .field("items", items)
                      .field("status", r.status ? *r.status : 0)
                      .field("error", r.status ? std::string_view("not retryable or out of attempts") : r.error));
        return;
    }
  }
}

void TelemetryOutput::export_loop() {
  const std::string prefix = config_.otlp.path_prefix;
  std::vector<Span> batch;
  std::string json;  // one buffer for every batch: no fresh pages per export
  auto next_flush = Clock::now() + config_.otlp.traces_interval;
  while (true) {
    const bool stopping = stop_exporter_.load(std::memory_order_acquire);
    if (spans_.size_approx() >= config_.otlp.batch_size || Clock::now() >= next_flush || stopping) {
      batch.clear();
      spans_.drain(batch, config_.otlp.batch_size);
      if (!batch.empty()) {
        encode_trace_export_request(resource_, scope_, batch, json);
        export_payload("traces", prefix + "/v1/traces", json, batch.size());
      }
      if (spans_.size_approx() < config_.otlp.batch_size) next_flush = Clock::now() + config_.otlp.traces_interval;
    }
    std::optional<std::vector<Metric>> metrics;
    {
      std::lock_guard lock(metrics_mutex_);
      metrics.swap(pending_metrics_);
    }
    if (metrics && !metrics->empty()) {
      uint64_t points = 0;
      for (const auto& m : *metrics) points += std::visit([](const auto& d) { return d.points.size(); }, m.data);
      export_payload("metrics", prefix + "/v1/metrics", encode_metrics_export_request(resource_, scope_, *metrics),
                     points);
    }
    if (stopping) return;  // what one last batch held was sent once; a hanging collector cannot hold the exit
    std::this_thread::sleep_for(kPoll);
  }
}

void TelemetryOutput::render_metrics(std::string& out) const {
  auto counter = [&](const char* name, const char* help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" counter\n");
  };
  counter("tollway_telemetry_records_total", "Finished requests handed to the telemetry thread, by result.");
  out += "tollway_telemetry_records_total{result=\"queued\"} " + std::to_string(records_.pushed()) + "\n";
  out += "tollway_telemetry_records_total{result=\"dropped\"} " + std::to_string(records_.dropped()) + "\n";
  counter("tollway_telemetry_log_lines_total", "Access and decision log lines written.");
  out += "tollway_telemetry_log_lines_total " + std::to_string(log_lines_.load()) + "\n";
  counter("tollway_telemetry_log_write_errors_total", "Failed writes of access or decision log lines.");
  out += "tollway_telemetry_log_write_errors_total " + std::to_string(log_write_errors_.load()) + "\n";
  counter("tollway_otlp_spans_total",
          "Spans by fate: queued for export, dropped (queue full), exported, failed (export dropped or gave up), "
          "rejected by the collector (partial success).");
  out += "tollway_otlp_spans_total{result=\"queued\"} " + std::to_string(spans_.pushed()) + "\n";
  out += "tollway_otlp_spans_total{result=\"dropped\"} " + std::to_string(spans_.dropped()) + "\n";
  out += "tollway_otlp_spans_total{result=\"exported\"} " + std::to_string(spans_exported_.load()) + "\n";
  out += "tollway_otlp_spans_total{result=\"failed\"} " + std::to_string(spans_failed_.load()) + "\n";
  out += "tollway_otlp_spans_total{result=\"rejected\"} " + std::to_string(spans_rejected_.load()) + "\n";
  counter("tollway_otlp_metric_points_total", "Metric data points exported to the collector, by result.");
  out += "tollway_otlp_metric_points_total{result=\"exported\"} " + std::to_string(points_exported_.load()) + "\n";
  out += "tollway_otlp_metric_points_total{result=\"failed\"} " + std::to_string(points_failed_.load()) + "\n";
  counter("tollway_otlp_export_requests_total",
          "OTLP/HTTP export requests by signal and result (retried: a retryable failure that was tried again).");
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t r = 0; r < 4; ++r)
      out += std::string("tollway_otlp_export_requests_total{signal=\"") + (s == kTraces ? "traces" : "metrics") +
             "\",result=\"" + kResultNames[r] + "\"} " + std::to_string(exports_[s][r].load()) + "\n";
}

}  // namespace tollway::telemetry
