// ControlConfigSource: a proxy's configuration from the control plane (`tollway gateway --control URL…`). It
// long-polls GET /v1/snapshot for the node's snapshot (saying its build and, with an identity, its certificate's
// validity), hands each new document to the engine (which prepares and commits it exactly as a file), then reports
// the engine's verdict with POST /v1/ack: the applied version, or a NACK with the errors (the engine keeps serving
// the previous snapshot, and so does this source). Each poll also says how many requests the node answered since
// it applied the version it has, and how many of them 5xx and 401/403/429 (the engine's request metrics, read
// per poll), for the control plane's canary judgement. An applied document is persisted in the state directory (write,
// fsync, rename, fsync the directory) so that the proxy boots from it when no control plane answers (static
// stability). Reconnects with jittered exponential backoff (100 ms to 10 s) across the listed control planes; with
// the node's identity, an https control plane is spoken to with the node's SVID as client certificate. A disconnect
// never removes configuration. It includes no role and never validates a document itself.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "proxy/config_source.h"
#include "proxy/node_identity.h"

namespace tollway::control {

struct ControlClientOptions {
  std::vector<std::string> urls;  // the control planes' base URLs, tried in turn
  std::string node;
  std::string token;  // the bootstrap token; "" with an identity (the certificate authenticates the node)
  std::string state_dir;
  // A poll waits at most this long for an answer (the control plane's --poll-timeout must be shorter).
  std::chrono::milliseconds request_timeout{90'000};
  // The node's SPIFFE identity: https control planes are then spoken to with its SVID as client certificate.
  std::shared_ptr<proxy::NodeIdentity> identity;
};

// A snapshot as GET /v1/snapshot answers it.
struct ReceivedSnapshot {
  std::string version;
  std::string revision;
  std::string nonce;
  std::string document;
};

// Asks each control plane once, at start, for the node's snapshot (`timeout` each). nullopt with `error` when
// none answered with one.
std::optional<ReceivedSnapshot> fetch_first_snapshot(const ControlClientOptions& options,
                                                     std::chrono::milliseconds timeout, std::string& error);
// The document persisted by the last applied snapshot, or nullopt.
std::optional<std::string> read_persisted_snapshot(const std::string& state_dir);
std::string persisted_snapshot_path(const std::string& state_dir);

class ControlConfigSource final : public proxy::ConfigSource {
 public:
  // Starts with `document` (the persisted one or `received`'s). `received` is the snapshot it came from, when
  // it came from a control plane; `refused` is a snapshot from a control plane that already failed the check
  // at start, NACKed with `refused_errors` before the first poll.
  ControlConfigSource(boost::asio::io_context& context, ControlClientOptions options, std::string document,
                      std::optional<ReceivedSnapshot> received, std::optional<ReceivedSnapshot> refused = std::nullopt,
                      std::vector<std::string> refused_errors = {});

  const std::string& origin() const override { return origin_; }
  std::optional<proxy::ConfigDocument> read(std::string& error) override;
  boost::asio::awaitable<bool> changed() override;
  void cancel() override;
  void mark_read() override {}
  void applied(const std::string& version, const std::vector<std::string>& errors) override;
  const char* change_trigger() const override { return "control plane update"; }
  void render_metrics(std::string& out) const override;
  void count_responses(proxy::CountResponses count) override { count_responses_ = std::move(count); }

 private:
  struct Report {
    std::string version;
    std::string nonce;
    std::optional<std::string> error;
  };
  boost::asio::awaitable<bool> send_report();
  boost::asio::awaitable<void> back_off();
  void set_connected(bool connected, const std::string& why);
  void persist(const std::string& document);

  ControlClientOptions options_;
  std::string origin_;
  boost::asio::steady_timer timer_;
  std::string document_;          // what read() hands out
  std::string applied_document_;  // the document running now
  std::string applied_version_;   // its version, sent as `have`
  std::string persisted_;         // the document on disk
  std::optional<ReceivedSnapshot> offered_;  // handed to the engine, verdict pending
  std::optional<Report> report_;             // to POST to /v1/ack
  proxy::CountResponses count_responses_;    // none: polls say no counts
  proxy::ResponseCounts counts_at_apply_;    // the engine's counts when the running version was applied
  bool counts_rebase_ = true;                // a version was applied: take counts_at_apply_ before the next poll
  std::size_t url_index_ = 0;
  std::chrono::milliseconds backoff_{0};
  std::mt19937_64 random_;
  bool connected_ = false;
  bool cancelled_ = false;
  uint64_t updates_applied_ = 0;
  uint64_t updates_rejected_ = 0;
  uint64_t updates_failed_ = 0;
};

}  // namespace tollway::control
