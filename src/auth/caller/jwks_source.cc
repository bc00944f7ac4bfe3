#include "auth/caller/jwks_source.h"

#include <fstream>
#include <sstream>

#include "auth/remote/http_get.h"
#include "core/log.h"

namespace tollway::auth {

namespace asio = boost::asio;

JwksSource::JwksSource(config::JwtIssuerConfig config, std::string base_dir, asio::io_context& control)
    : config_(std::move(config)), control_(control) {
  if (!config_.jwks_url.empty()) {
    location_ = config_.jwks_url;
  } else {
    location_ = (config_.jwks_file.empty() || config_.jwks_file[0] == '/' || base_dir.empty())
                    ? config_.jwks_file
                    : base_dir + "/" + config_.jwks_file;
  }
}

void JwksSource::apply(const std::string& text) {
  std::string error;
  auto set = parse_jwk_set(text, error);
  if (!set) {
    ++failures_;
    log::warn("JWKS rejected; the previous keys stay in use",
              tollway::json::ObjectWriter().field("issuer", config_.issuer).field("source", location_).field("error", error));
    return;
  }
  ++refreshes_;
  keys_.store(std::make_shared<const JwkSet>(std::move(*set)));
}

asio::awaitable<void> JwksSource::refresh(bool on_demand) {
  const auto now = std::chrono::steady_clock::now();
  if (on_demand) {  // tokens with made-up kids must not turn into a flood of fetches
    if (now - last_on_demand_ < std::chrono::seconds(5)) co_return;
    last_on_demand_ = now;
  }
  if (config_.jwks_url.empty()) {
    std::ifstream in(location_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      ++failures_;
      log::warn("JWKS file unreadable; the previous keys stay in use",
                tollway::json::ObjectWriter().field("issuer", config_.issuer).field("source", location_));
      co_return;
    }
    apply(text.str());
    co_return;
  }
  const std::vector<std::pair<std::string, std::string>> no_headers;
  auto result = co_await http_get(location_, no_headers, std::chrono::seconds(5));
  if (!result.ok || result.status != 200) {
    ++failures_;
    log::warn("JWKS fetch failed; the previous keys stay in use",
              tollway::json::ObjectWriter()
                  .field("issuer", config_.issuer)
                  .field("source", location_)
                  .field("error", result.ok ? "HTTP " + std::to_string(result.status) : result.error));
    co_return;
  }
  apply(result.body);
}

asio::awaitable<void> JwksSource::refresh_loop() {
  std::weak_ptr<JwksSource> weak = weak_from_this();
  asio::steady_timer timer(control_);
  while (true) {
    {
      auto self = weak.lock();
      if (!self) co_return;
      co_await self->refresh(false);
      timer.expires_after(self->config_.jwks_refresh);
    }
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

void JwksSource::start() {
  if (config_.jwks_url.empty()) {  // a file: load now, so the first request already has keys
    std::ifstream in(location_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (in) apply(text.str());
  }
  asio::co_spawn(control_, refresh_loop(), asio::detached);
}

asio::awaitable<void> JwksSource::refresh_on_demand() {
  const std::shared_ptr<JwksSource> self = shared_from_this();  // alive until the refresh has finished
  co_await asio::co_spawn(control_, self->refresh(true), asio::use_awaitable);
}

}  // namespace tollway::auth
