// JwksSource: the verification keys of one JWT issuer, from a JWKS file or URL. Loaded at start, refreshed on
// a schedule and on demand (a token with an unknown kid asks for one refresh, at most one per 5 s), always on
// the control thread; workers read the current key set, swapped atomically. When the source fails (URL down,
// file unreadable or invalid) the last good set stays in use and the failure is counted and logged.
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "auth/jwt/jwk.h"
#include "config/auth_config.h"
#include "core/shared_cell.h"

namespace tollway::auth {

class JwksSource : public std::enable_shared_from_this<JwksSource> {
 public:
  JwksSource(config::JwtIssuerConfig config, std::string base_dir, boost::asio::io_context& control);

  // Control thread: first load (a file synchronously; a URL in the background), then the refresh loop.
  void start();
  // Any thread: the keys now (empty set before the first successful load).
  std::shared_ptr<const JwkSet> keys() const { return keys_.load(); }
  // Any thread: refresh on the control thread and wait for it (no-op within 5 s of the previous one).
  boost::asio::awaitable<void> refresh_on_demand();

  const std::string& location() const { return location_; }
  uint64_t failures() const { return failures_.load(); }
  uint64_t refreshes() const { return refreshes_.load(); }

 private:
  boost::asio::awaitable<void> refresh(bool on_demand);
  boost::asio::awaitable<void> refresh_loop();
  void apply(const std::string& text);

  config::JwtIssuerConfig config_;
  std::string location_;  // file path (resolved) or URL
  boost::asio::io_context& control_;
  core::SharedCell<JwkSet> keys_;
  std::chrono::steady_clock::time_point last_on_demand_{};  // control thread only
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> refreshes_{0};
};

}  // namespace tollway::auth
