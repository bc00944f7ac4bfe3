// TelemetryOutput: where finished requests' telemetry goes, off the request path. Request threads hand it a
// RequestRecord (a lock-free bounded queue: a full queue drops and counts, a producer never waits); the writer
// thread turns records into access and decision log lines and spans; the exporter thread batches spans (and
// the metrics the control thread offers) into OTLP/HTTP JSON requests, gzip optional, retried per the OTLP spec
// (429/502/503/504 and connection errors, backoff and Retry-After, never after a partial success). A stopped
// or slow collector only fills the queues: it never blocks a request. Process-lifetime; its settings are the
// first config's (later changes need a restart, and a reload says so).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/gateway_config.h"
#include "telemetry/export_queue.h"
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

 private:
  void write_loop();
  void export_loop();
  void write_line(const config::LogDestination& where, int fd, std::string& pending, const std::string& line);
  void flush(int fd, std::string& pending);
  // One export with its retries; returns when it succeeded, was dropped or the output stops.
  void export_payload(const char* signal, const std::string& path, const std::string& json, uint64_t items);

  const config::TelemetryConfig config_;
  const bool access_log_, decision_log_, exporting_;
  Resource resource_;
  InstrumentationScope scope_;
  BoundedQueue<RequestRecord> records_;
  SpanExportQueue spans_;
  int access_fd_ = -1, decision_fd_ = -1;
  std::mutex metrics_mutex_;  // control thread <-> exporter thread, never a request
  std::optional<std::vector<Metric>> pending_metrics_;
  std::atomic<bool> stop_writer_{false}, stop_exporter_{false};
  // Counters for /metrics.
  std::atomic<uint64_t> log_lines_{0}, log_write_errors_{0};
  std::atomic<uint64_t> spans_exported_{0}, spans_failed_{0}, spans_rejected_{0};
  std::atomic<uint64_t> points_exported_{0}, points_failed_{0};
  // [signal traces/metrics][result success/partial/retry/dropped]
  std::array<std::array<std::atomic<uint64_t>, 4>, 2> exports_{};
  std::thread writer_, exporter_;
};

}  // namespace tollway::telemetry
