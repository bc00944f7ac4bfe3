#include "control/control_plane.h"

#include <boost/asio.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "config/gateway_config.h"
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

constexpr auto kPolicyPollInterval = std::chrono::milliseconds(500);

using DirectoryStamp = std::vector<std::pair<std::string, core::FileStamp>>;

DirectoryStamp stamp_policy(const std::string& dir) {
  DirectoryStamp stamp;
  for (const auto& file : policy_files(dir)) stamp.emplace_back(file, core::stamp_file(file));
  return stamp;
}

// The revision counter survives restarts in STATE_DIR/revision ("COUNTER HASH"): the same policy keeps its
// number, a changed one gets the next.
class RevisionCounter {
 public:
  explicit RevisionCounter(std::string state_dir) : state_dir_(std::move(state_dir)) {
    if (state_dir_.empty()) return;
    std::ifstream in(fs::path(state_dir_) / "revision");
    in >> counter_ >> hash_;
  }
  std::string next(const std::string& hash) {
    if (hash != hash_) {
      ++counter_;
      hash_ = hash;
      save();
    }
    return std::to_string(counter_) + "-" + hash_.substr(0, 12);
  }

 private:
  void save() const {
    if (state_dir_.empty()) return;
    std::error_code ec;
    fs::create_directories(state_dir_, ec);
    const fs::path file = fs::path(state_dir_) / "revision";
    {
      std::ofstream out(file.string() + ".tmp", std::ios::trunc);
      out << counter_ << " " << hash_ << "\n";
    }
    fs::rename(file.string() + ".tmp", file, ec);
    if (ec) log::warn("cannot save the revision counter", json::ObjectWriter().field("error", ec.message()));
  }

  std::string state_dir_;
  uint64_t counter_ = 0;
  std::string hash_;
};

class ControlPlane {
 public:
  explicit ControlPlane(const ControlPlaneOptions& options)
      : options_(options), api_(context_, options.admin_token, options.poll_timeout), revisions_(options.state_dir) {}

  int run() {
    PolicyVerdict verdict = check_policy(options_.policy_dir, options_.check);
    for (const auto& w : verdict.warnings) log::warn("policy warning", json::ObjectWriter().field("warning", w));
    if (!verdict.policy) {
      for (const auto& e : verdict.errors) std::cerr << e << "\n";
      std::cerr << "the policy in " << options_.policy_dir << " is not valid: nothing to publish\n";
      return 1;
    }
    seen_ = stamp_policy(options_.policy_dir);
    publish(*verdict.policy);
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
    listener->start();
    asio::co_spawn(context_, watch_policy(), asio::detached);
    signals_.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error) return;
      log::info("draining", json::ObjectWriter().field("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      stopping_ = true;
      api_.stop();
      listener->stop();
      asio::post(context_, [this] { context_.stop(); });
    });
    log::info("control plane ready", json::ObjectWriter()
                                         .field("listen", http::endpoint_text(listener->local_endpoint()))
                                         .field("policy", options_.policy_dir)
                                         .field("revision", revision_)
                                         .field("nodes", static_cast<uint64_t>(nodes_))
                                         .field("tollway_version", kVersion));
    context_.run();
    log::info("control plane stopped");
    return 0;
  }

 private:
  void publish(const CheckedPolicy& policy) {
    revision_ = revisions_.next(policy.content_hash);
    nodes_ = policy.nodes.size();
    api_.publish(policy, revision_);
  }

  asio::awaitable<void> watch_policy() {
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
      PolicyVerdict verdict = check_policy(options_.policy_dir, options_.check);
      for (const auto& w : verdict.warnings) log::warn("policy warning", json::ObjectWriter().field("warning", w));
      if (!verdict.policy) {
        for (const auto& e : verdict.errors)
          log::warn("policy change refused; the published revision stays",
                    json::ObjectWriter().field("error", e).field("revision", revision_));
        api_.refuse(std::move(verdict.errors));
        continue;
      }
      const std::string previous = revision_;
      publish(*verdict.policy);
      log::info("policy published", json::ObjectWriter()
                                        .field("revision", revision_)
                                        .field("previous", previous)
                                        .field("nodes", static_cast<uint64_t>(nodes_)));
    }
  }

  const ControlPlaneOptions& options_;
  asio::io_context context_{1};
  asio::signal_set signals_{context_, SIGTERM, SIGINT};
  WatchApi api_;
  RevisionCounter revisions_;
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
