#include "telemetry/telemetry_output.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "core/log.h"
#include "core/prometheus_text.h"
#include "telemetry/export_retry.h"
#include "telemetry/otlp_http.h"
#include "telemetry/record_format.h"
#include "telemetry/span_json.h"

namespace tollway::telemetry {
namespace {

using Clock = std::chrono::steady_clock;
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
      trace_prefix_(trace_request_prefix(resource_, scope_)),
      max_batches_(std::max<uint64_t>(1, config.otlp.queue_size / std::max<uint64_t>(1, config.otlp.batch_size))),
      records_(std::min<uint64_t>(config.otlp.queue_size, kMaxRecordCells)),
      client_(config.otlp) {
  open_logs();
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
  {
    std::lock_guard lock(writer_mutex_);  // asleep or lingering, the writer sees the stop now
    writer_wake_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  stop_exporter_.store(true, std::memory_order_release);
  wake_exporter();
  if (exporter_.joinable()) exporter_.join();
  close_logs();
}

void TelemetryOutput::open_logs() {
  access_fd_ = open_destination(config_.access_log);
  decision_fd_ = config_.decision_log == config_.access_log ? access_fd_ : open_destination(config_.decision_log);
}

void TelemetryOutput::close_logs() {
  if (access_fd_ > STDERR_FILENO) ::close(access_fd_);
  if (decision_fd_ > STDERR_FILENO && decision_fd_ != access_fd_) ::close(decision_fd_);
  access_fd_ = decision_fd_ = -1;
}

bool TelemetryOutput::submit(RequestRecord&& record) {
  if (!records_.try_push(std::move(record))) return false;
  // A lingering writer is not woken per record, unless the queue is half full.
  if (records_.size_approx() >= records_.capacity() / 2) {
    std::lock_guard lock(writer_mutex_);
    writer_wake_.notify_one();
    return true;
  }
  wake_writer();
  return true;
}

// The writer publishes writer_asleep_ and then looks at the queue; a producer publishes its record and then looks
// at writer_asleep_. The seq_cst fences on both sides make at least one of them see the other's store, so a
// record never waits for a writer that missed it.
void TelemetryOutput::wake_writer() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!writer_asleep_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(writer_mutex_);
  writer_wake_.notify_one();
}

void TelemetryOutput::linger_writer() {
  std::unique_lock lock(writer_mutex_);
  writer_wake_.wait_for(lock, kWriterLinger, [this] {
    return stop_writer_.load(std::memory_order_acquire) || reopen_logs_.load(std::memory_order_acquire) ||
           records_.size_approx() >= records_.capacity() / 2;
  });
}

void TelemetryOutput::sleep_writer(std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(writer_mutex_);
  writer_asleep_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const auto has_work = [this] {
    return records_.front_ready() || stop_writer_.load(std::memory_order_acquire) ||
           reopen_logs_.load(std::memory_order_acquire);
  };
  if (deadline) writer_wake_.wait_until(lock, *deadline, has_work);
  else writer_wake_.wait(lock, has_work);
  writer_asleep_.store(false, std::memory_order_relaxed);
}

void TelemetryOutput::offer_metrics(std::vector<Metric> metrics) {
  {
    std::lock_guard lock(metrics_mutex_);
    pending_metrics_ = std::move(metrics);
  }
  metrics_offered_.store(true, std::memory_order_release);
  wake_exporter();
}

void TelemetryOutput::wake_exporter() {
  { std::lock_guard lock(batches_mutex_); }  // a waiter is either asleep (and notified) or sees the new state
  exporter_wake_.notify_one();
}

void TelemetryOutput::flush(int fd, TextBuffer& pending) {
  if (pending.empty()) return;
  if (fd < 0) {
    log_write_errors_.fetch_add(1, std::memory_order_relaxed);  // the file could not be opened
  } else {
    std::string_view left = pending.view();
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

void TelemetryOutput::end_line(const config::LogDestination& where, int fd, TextBuffer& pending) {
  pending.push_back('\n');
  log_lines_.fetch_add(1, std::memory_order_relaxed);
  // stderr is shared with the operational log: one write per line keeps lines whole (atomic pipe writes).
  if (where.kind == config::LogDestination::Stderr || pending.size() >= 64 * 1024) flush(fd, pending);
}

void TelemetryOutput::write_loop() {
  TextBuffer access_pending, decision_pending;
  const bool shared_fd = config_.decision_log == config_.access_log;
  while (true) {
    const bool stopping = stop_writer_.load(std::memory_order_acquire);
    if (reopen_logs_.exchange(false, std::memory_order_acq_rel)) {
      close_logs();
      open_logs();
      log_reopens_.fetch_add(1, std::memory_order_relaxed);
    }
    // Each record is read where it lies in the queue (no move out).
    const auto write = [&](const RequestRecord& r) {
      if (access_log_) {
        append_access_log_line(access_pending, r);
        end_line(config_.access_log, access_fd_, access_pending);
      }
      if (r.denied && decision_log_) {
        TextBuffer& pending = shared_fd ? access_pending : decision_pending;
        append_decision_log_line(pending, r);
        end_line(config_.decision_log, decision_fd_, pending);
      }
      if (r.sampled && exporting_) add_spans(r);
    };
    std::size_t taken = 0;
    while (taken < kMaxRecordsPerPass && records_.try_consume(write)) ++taken;
    flush(access_fd_, access_pending);
    flush(decision_fd_, decision_pending);
    if (building_.spans > 0 && (stopping || Clock::now() - building_.started >= config_.otlp.traces_interval))
      hand_off_batch();
    if (taken == 0) {
      if (stopping) return;
      // An open batch is handed off at its deadline even when no record comes.
      if (building_.spans > 0) sleep_writer(building_.started + config_.otlp.traces_interval);
      else sleep_writer(std::nullopt);
    } else if (taken < kMaxRecordsPerPass && !stopping) {
      linger_writer();
    }
  }
}

void TelemetryOutput::add_spans(const RequestRecord& r) {
  if (building_.spans == 0) {
    std::lock_guard lock(batches_mutex_);
    if (ready_batches_.size() >= max_batches_) {
      // The exporter is behind (collector stopped or slow): these spans could not be queued, so they are not
      // even encoded.
      spans_dropped_.fetch_add(span_count(r), std::memory_order_relaxed);
      return;
    }
    if (!spare_buffers_.empty()) {
      building_.json = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
    building_.json.clear();
    building_.json.append(trace_prefix_);
    building_.started = Clock::now();
  }
  building_.spans += append_request_spans(building_.json, r, building_.spans == 0);
  if (building_.spans >= config_.otlp.batch_size) hand_off_batch();
}

void TelemetryOutput::hand_off_batch() {
  building_.json.append(kTraceRequestSuffix);
  spans_queued_.fetch_add(building_.spans, std::memory_order_relaxed);
  {
    std::lock_guard lock(batches_mutex_);
    // Only this thread adds batches and it checked for room when this batch started: there still is room.
    ready_batches_.push_back(std::move(building_));
  }
  building_ = TraceBatch{};
  exporter_wake_.notify_one();
}

bool TelemetryOutput::export_payload(const char* signal, const std::string& path, std::string_view json,
                                     uint64_t items) {
  const Signal s = std::string_view(signal) == "traces" ? kTraces : kMetrics;
  auto& failed = s == kTraces ? spans_failed_ : points_failed_;
  std::string compressed;
  try {
    if (config_.otlp.gzip) compressed = gzip_compress(json);
  } catch (const std::exception& e) {
    log::error("OTLP export: compression failed", json::ObjectWriter().field("error", e.what()));
    failed.fetch_add(items, std::memory_order_relaxed);
    return false;
  }
  ExportRetryPolicy policy;
  policy.max_backoff = std::min(policy.max_backoff, config_.otlp.timeout * 3);
  thread_local std::mt19937_64 random(std::random_device{}());  // the exporter thread's, seeded once
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (int attempt = 1;; ++attempt) {
    const HttpPostResult r = client_.post(path, config_.otlp.gzip ? compressed : json);
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
        return true;
      case ExportVerdict::PartialSuccess:
        exports_[s][kPartial].fetch_add(1, std::memory_order_relaxed);
        if (s == kTraces) spans_rejected_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, response.rejected)));
        log::warn("OTLP export partially rejected; not retried",
                  json::ObjectWriter()
                      .field("signal", signal)
                      .field("rejected", response.rejected)
                      .field("error_message", response.error_message));
        return true;
      case ExportVerdict::Retry: {
        exports_[s][kRetry].fetch_add(1, std::memory_order_relaxed);
        std::unique_lock lock(batches_mutex_);
        const bool stopped = exporter_wake_.wait_for(
            lock, d.delay, [this] { return stop_exporter_.load(std::memory_order_acquire); });
        if (stopped) {
          exports_[s][kDropped].fetch_add(1, std::memory_order_relaxed);
          failed.fetch_add(items, std::memory_order_relaxed);
          return false;
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
        return false;
    }
  }
}

void TelemetryOutput::export_loop() {
  const std::string traces_path = config_.otlp.path_prefix + "/v1/traces";
  const std::string metrics_path = config_.otlp.path_prefix + "/v1/metrics";
  while (true) {
    const bool stopping = stop_exporter_.load(std::memory_order_acquire);
    // Every ready batch, oldest first. When stopping, each gets one attempt (a retryable failure is not waited
    // for), and after a failure the rest are counted as failed: a dead collector cannot hold the exit.
    bool collector_failed = false;
    while (true) {
      TraceBatch batch;
      {
        std::lock_guard lock(batches_mutex_);
        if (ready_batches_.empty()) break;
        batch = std::move(ready_batches_.front());
        ready_batches_.pop_front();
      }
      if (collector_failed) {
        spans_failed_.fetch_add(batch.spans, std::memory_order_relaxed);
        continue;
      }
      collector_failed = !export_payload("traces", traces_path, batch.json.view(), batch.spans) && stopping;
      std::lock_guard lock(batches_mutex_);
      if (spare_buffers_.size() < 2) spare_buffers_.push_back(std::move(batch.json));
    }
    std::optional<std::vector<Metric>> metrics;
    {
      std::lock_guard lock(metrics_mutex_);
      metrics_offered_.store(false, std::memory_order_relaxed);
      metrics.swap(pending_metrics_);
    }
    if (metrics && !metrics->empty() && !collector_failed) {
      uint64_t points = 0;
      for (const auto& m : *metrics) points += std::visit([](const auto& d) { return d.points.size(); }, m.data);
      export_payload("metrics", metrics_path, encode_metrics_export_request(resource_, scope_, *metrics), points);
    }
    if (stopping) return;
    std::unique_lock lock(batches_mutex_);
    exporter_wake_.wait(lock, [this] {
      return !ready_batches_.empty() || metrics_offered_.load(std::memory_order_acquire) ||
             stop_exporter_.load(std::memory_order_acquire);
    });
  }
}

void TelemetryOutput::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  auto counter = [&](const char* name, const char* help) { prometheus::family(out, name, "counter", help); };
  auto result = [](std::string_view value) { return prometheus::labels({{"result", value}}); };
  counter("tollway_telemetry_records_total", "Finished requests handed to the telemetry thread, by result.");
  prometheus::sample(out, "tollway_telemetry_records_total", result("queued"), records_.pushed());
  prometheus::sample(out, "tollway_telemetry_records_total", result("dropped"), records_.dropped());
  counter("tollway_telemetry_log_lines_total", "Access and decision log lines written.");
  prometheus::sample(out, "tollway_telemetry_log_lines_total", "", log_lines_.load());
  counter("tollway_telemetry_log_write_errors_total", "Failed writes of access or decision log lines.");
  prometheus::sample(out, "tollway_telemetry_log_write_errors_total", "", log_write_errors_.load());
  counter("tollway_telemetry_log_reopens_total", "Reopenings of the access and decision log files (SIGUSR1).");
  prometheus::sample(out, "tollway_telemetry_log_reopens_total", "", log_reopens_.load());
  counter("tollway_otlp_spans_total",
          "Spans by fate: queued for export, dropped (export queue full), exported, failed (export dropped or gave "
          "up), rejected by the collector (partial success).");
  prometheus::sample(out, "tollway_otlp_spans_total", result("queued"), spans_queued_.load());
  prometheus::sample(out, "tollway_otlp_spans_total", result("dropped"), spans_dropped_.load());
  prometheus::sample(out, "tollway_otlp_spans_total", result("exported"), spans_exported_.load());
  prometheus::sample(out, "tollway_otlp_spans_total", result("failed"), spans_failed_.load());
  prometheus::sample(out, "tollway_otlp_spans_total", result("rejected"), spans_rejected_.load());
  counter("tollway_otlp_metric_points_total", "Metric data points exported to the collector, by result.");
  prometheus::sample(out, "tollway_otlp_metric_points_total", result("exported"), points_exported_.load());
  prometheus::sample(out, "tollway_otlp_metric_points_total", result("failed"), points_failed_.load());
  counter("tollway_otlp_export_requests_total",
          "OTLP/HTTP export requests by signal and result (retried: a retryable failure that was tried again).");
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t r = 0; r < 4; ++r)
      prometheus::sample(
          out, "tollway_otlp_export_requests_total",
          prometheus::labels({{"signal", s == kTraces ? "traces" : "metrics"}, {"result", kResultNames[r]}}),
          exports_[s][r].load());
}

}  // namespace tollway::telemetry
