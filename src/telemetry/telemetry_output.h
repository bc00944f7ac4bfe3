// TelemetryOutput: where finished requests' telemetry goes, off the request path. Request threads hand it a
// RequestRecord (a lock-free bounded queue: a full queue drops and counts, a producer never waits; the writer is
// woken by the first record after it went idle, then lingers between passes, so a busy process wakes it once per
// linger, not per request); the writer thread turns records into access and decision log lines and writes sampled requests' spans straight into the
// OTLP JSON body of the current batch; the exporter thread sends finished batches (and the metrics the control
// thread offers) as OTLP/HTTP requests, gzip optional, retried per the OTLP spec (429/502/503/504 and connection
// errors, backoff and Retry-After, never after a partial success). Batches wait in a bounded list (queue_size
// spans): when the collector is stopped or slow the list is full and new spans are counted as dropped without
// being encoded; a request is never blocked. Process-lifetime; its settings are the first config's (later
// changes need a restart, and a reload says so); log files are reopened on reopen_logs() (SIGUSR1, rotation).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/gateway_config.h"
#include "core/text_buffer.h"
#include "telemetry/export_queue.h"
#include "telemetry/otlp_http.h"
#include "telemetry/otlp_json.h"
#include "telemetry/request_record.h"

namespace tollway::telemetry {

class TelemetryOutput {
 public:
  TelemetryOutput(const config::TelemetryConfig& config, std::string service_version);
  ~TelemetryOutput();  // stops both threads after writing and exporting what is queued (one attempt each)
  TelemetryOutput(const TelemetryOutput&) = delete;
  TelemetryOutput& operator=(const TelemetryOutput&) = delete;

  // Whether a record of this request is needed at all (a log line or spans would be made from it).
  bool wants(bool sampled, bool denied) const {
    return access_log_ || (denied && decision_log_) || (sampled && exporting_);
  }
  bool exporting() const { return exporting_; }
  // Never blocks; false when the queue was full (the record is dropped and counted).
  bool submit(RequestRecord&& record);
  // The latest metrics for the exporter (replaces an offer it has not sent yet). Control thread.
  void offer_metrics(std::vector<Metric> metrics);
  void render_metrics(std::string& out) const;
  // The settings this output runs with (a reload compares its config with them).
  const config::TelemetryConfig& settings() const { return config_; }
  // Closes and reopens the access and decision log files (after logrotate moved them); the writer thread does it
  // before its next line. Safe from any thread.
  void reopen_logs() {
    reopen_logs_.store(true, std::memory_order_release);
    wake_writer();
  }

 private:
  // An export request's body being filled, or waiting for the exporter.
  struct TraceBatch {
    TextBuffer json;
    uint64_t spans = 0;
    std::chrono::steady_clock::time_point started;
  };
  void write_loop();
  // Wakes the writer if it sleeps (it sleeps until a record, a reopen, a stop or its batch's deadline). Costs a
  // request thread one fence and one load while the writer is busy; the lock only when it is asleep.
  void wake_writer();
  // Writer thread: sleeps until there is work or `deadline` (none: no deadline).
  void sleep_writer(std::optional<std::chrono::steady_clock::time_point> deadline);
  // Writer thread, after a pass that wrote something: waits kWriterLinger (or until a stop, a reopen or a half-full
  // queue) without asking to be woken per record, so a steady stream of requests costs one writer wakeup per
  // linger instead of one futex wake and context switch per request. Log lines are written at most this late.
  void linger_writer();
  static constexpr std::chrono::milliseconds kWriterLinger{10};
  static constexpr std::size_t kMaxRecordsPerPass = 1024;
  // The records queue holds min(otlp.queue_size, this) cells: a ring's cells all become resident once it has
  // wrapped, and the writer drains it every linger (woken early at half full), so more would only cost memory.
  static constexpr uint64_t kMaxRecordCells = 1024;
  void export_loop();
  void open_logs();
  void close_logs();
  void end_line(const config::LogDestination& where, int fd, TextBuffer& pending);
  void flush(int fd, TextBuffer& pending);
  // Writer thread: adds a sampled record's spans to the current batch (or counts them dropped).
  void add_spans(const RequestRecord& r);
  // Writer thread: closes the current batch and queues it for the exporter.
  void hand_off_batch();
  // Wakes the exporter (it sleeps until there is work, not on a poll timer).
  void wake_exporter();
  // One export with its retries; returns whether the collector accepted it (wholly or partly). Once the output
  // is stopping, a retryable failure is not retried.
  bool export_payload(const char* signal, const std::string& path, std::string_view json, uint64_t items);

  const config::TelemetryConfig config_;
  const bool access_log_, decision_log_, exporting_;
  Resource resource_;
  InstrumentationScope scope_;
  const std::string trace_prefix_;  // every batch's JSON up to its spans (resource and scope)
  const std::size_t max_batches_;   // queue_size spans in batches of batch_size
  BoundedQueue<RequestRecord> records_;
  OtlpClient client_;  // the exporter thread's
  int access_fd_ = -1, decision_fd_ = -1;
  std::atomic<bool> reopen_logs_{false};
  std::mutex writer_mutex_;  // only taken to sleep and to wake a sleeping writer
  std::condition_variable writer_wake_;
  std::atomic<bool> writer_asleep_{false};
  TraceBatch building_;  // writer thread only
  std::mutex batches_mutex_;  // writer thread <-> exporter thread, never a request
  std::condition_variable exporter_wake_;  // a batch is ready, metrics were offered, or the output stops
  std::deque<TraceBatch> ready_batches_;
  std::vector<TextBuffer> spare_buffers_;  // sent batches' buffers, reused (no fresh pages per batch)
  std::mutex metrics_mutex_;  // control thread <-> exporter thread, never a request
  std::optional<std::vector<Metric>> pending_metrics_;
  std::atomic<bool> stop_writer_{false}, stop_exporter_{false}, metrics_offered_{false};
  // Counters for /metrics.
  std::atomic<uint64_t> log_lines_{0}, log_write_errors_{0}, log_reopens_{0};
  std::atomic<uint64_t> spans_queued_{0}, spans_dropped_{0};
  std::atomic<uint64_t> spans_exported_{0}, spans_failed_{0}, spans_rejected_{0};
  std::atomic<uint64_t> points_exported_{0}, points_failed_{0};
  // [signal traces/metrics][result success/partial/retry/dropped]
  std::array<std::array<std::atomic<uint64_t>, 4>, 2> exports_{};
  std::thread writer_, exporter_;
};

}  // namespace tollway::telemetry
