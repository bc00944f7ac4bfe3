#include "auth/gateway_auth.h"

#include "auth/authz/filter.h"
#include "core/log.h"
#include "core/prometheus_text.h"

namespace tollway::auth {

namespace asio = boost::asio;

std::string config_directory(const std::string& config_path) {
  const auto slash = config_path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return config_path.substr(0, slash);
}

GatewayAuth::GatewayAuth(asio::io_context& control) : control_(control), provider_keys_(control) {}

GatewayAuth::~GatewayAuth() {
  *alive_ = false;
}

bool GatewayAuth::configure(const config::GatewayConfig& config, std::string& error) {
  const std::string dir = config_directory(config.source);
  if (config.auth.enabled) {
    std::string path = config.auth.virtual_keys_store;
    if (path != ":memory:" && !path.empty() && path[0] != '/' && !dir.empty()) path = dir + "/" + path;
    if (!keys_) {
      keys_ = VirtualKeyStore::open(path, error);
      if (!keys_) return false;
      keys_path_ = path;
      log::info("virtual key store opened", tollway::json::ObjectWriter()
                                                .field("path", path)
                                                .field("keys", static_cast<uint64_t>(keys_->size())));
    } else if (path != keys_path_) {
      log::warn("auth.virtual_keys.store changes take effect at the next restart",
                tollway::json::ObjectWriter().field("active", keys_path_));
    }
    admin_token_ = config.auth.admin_token;
    signer_.configure(config.auth.token_exchange);
    if (!rotation_started_ && config.auth.token_exchange.enabled) {
      rotation_started_ = true;
      asio::co_spawn(control_, rotate_signing_keys(), asio::detached);
    }
  } else {
    admin_token_.clear();
  }
  provider_keys_.configure(config.credentials, dir);
  return true;
}

asio::awaitable<void> GatewayAuth::rotate_signing_keys() {
  auto alive = alive_;
  asio::steady_timer timer(control_);
  while (*alive) {
    timer.expires_after(signer_.config().rotate_every);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !*alive) co_return;
    signer_.rotate();
    log::info("token exchange signing key rotated");
  }
}

std::vector<JwtIssuer> GatewayAuth::issuers(const config::GatewayConfig& config) {
  std::vector<JwtIssuer> out;
  const std::string dir = config_directory(config.source);
  std::map<std::string, std::shared_ptr<JwksSource>> still_used;
  for (const auto& ic : config.auth.jwt_issuers) {
    JwtIssuer issuer;
    issuer.config = ic;
    issuer.rules.issuers = {ic.issuer};
    issuer.rules.audiences = ic.audiences;
    issuer.rules.leeway_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(config.auth.clock_skew).count();
    issuer.rules.required_claims = ic.required_claims;
    issuer.rules.max_token_bytes = config.auth.max_token_bytes;
    for (const auto& a : ic.algorithms)
      if (auto alg = algorithm_from_name(a)) issuer.rules.allowed_algorithms.push_back(*alg);
    auto policy = std::make_shared<CallerPolicy>();
    policy->routes = ic.policy.routes;
    policy->models = ic.policy.models;
    policy->max_tokens = ic.policy.max_tokens;
    issuer.policy = std::move(policy);
    const std::string key =
        ic.issuer + "\n" + ic.jwks_url + "\n" + ic.jwks_file + "\n" + std::to_string(ic.jwks_refresh.count());
    auto it = jwks_.find(key);
    if (it == jwks_.end()) {
      auto source = std::make_shared<JwksSource>(ic, dir, control_);
      source->start();
      it = jwks_.emplace(key, std::move(source)).first;
    }
    issuer.keys = it->second;
    still_used[key] = it->second;
    out.push_back(std::move(issuer));
  }
  jwks_ = std::move(still_used);  // sources no snapshot needs stop refreshing once the old snapshot is gone
  return out;
}

void GatewayAuth::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  counters_.render(out);
  authz_denials_.render_metrics(out);
  prometheus::family(out, "tollway_virtual_keys", "gauge",
                     "Virtual keys in the store (active, revoked and expired alike).");
  prometheus::sample(out, "tollway_virtual_keys", "", keys_ ? keys_->size() : 0);
  prometheus::family(out, "tollway_jwks_refreshes_total", "counter", "JWKS loads per issuer, by result.");
  for (const auto& [key, source] : jwks_) {
    const std::string_view issuer = std::string_view(key).substr(0, key.find('\n'));
    prometheus::sample(out, "tollway_jwks_refreshes_total",
                       prometheus::labels({{"issuer", issuer}, {"result", "success"}}), source->refreshes());
    prometheus::sample(out, "tollway_jwks_refreshes_total",
                       prometheus::labels({{"issuer", issuer}, {"result", "failure"}}), source->failures());
  }
  provider_keys_.render_metrics(out);
}

}  // namespace tollway::auth
