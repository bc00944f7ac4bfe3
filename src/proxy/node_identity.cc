#include "proxy/node_identity.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/strict_json.h"
#include "http/base_url.h"
#include "http/client.h"
#include "tls/client_context.h"
#include "tls/control_plane_id.h"
#include "tls/node_identity_files.h"
#include "tls/node_keypair_files.h"
#include "tls/spiffe_id.h"
#include "tls/svid_request.h"

namespace tollway::proxy {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kFirstRetry = std::chrono::milliseconds(500);
constexpr auto kLastRetry = std::chrono::seconds(60);

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

int64_t seconds_until(NodeIdentity::Clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at - NodeIdentity::Clock::now()).count();
}

// RFC 3339 UTC, seconds.
std::string utc_text(NodeIdentity::Clock::time_point at) {
  const std::time_t seconds = NodeIdentity::Clock::to_time_t(at);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::chrono::milliseconds next_retry(std::chrono::milliseconds current) {
  return current.count() == 0 ? kFirstRetry
                              : std::min<std::chrono::milliseconds>(current * 2, kLastRetry);
}

using tls::node_bundle_path;
using tls::node_cert_path;
using tls::node_key_path;

}  // namespace

NodeIdentity::NodeIdentity(NodeIdentityOptions options)
    : options_(std::move(options)), random_(std::random_device{}()) {}

std::unique_ptr<NodeIdentity> NodeIdentity::open(NodeIdentityOptions options, std::string& error) {
  std::unique_ptr<NodeIdentity> identity(new NodeIdentity(std::move(options)));
  const NodeIdentityOptions& o = identity->options_;
  std::string why_not_persisted;
  if (identity->load(why_not_persisted)) {
    identity->control_id_ = o.control_spiffe_id;
    if (identity->control_id_.empty()) {
      const auto own = tls::SpiffeId::parse(identity->spiffe_id());
      if (!own) {
        error = "the persisted certificate in " + o.dir + " carries no SPIFFE ID";
        return nullptr;
      }
      identity->control_id_ = tls::control_plane_id(own->trust_domain());
    }
    log::info("node identity loaded", json::ObjectWriter()
                                          .field("spiffe_id", identity->spiffe_id())
                                          .field("dir", o.dir)
                                          .field("expires_in_s", seconds_until(identity->not_after()))
                                          .field("control_spiffe_id", identity->control_id_));
    return identity;
  }
  if (o.join_token.empty()) {
    error = "no valid certificate in " + o.dir + " (" + why_not_persisted + ") and no --join-token-file to join with";
    return nullptr;
  }
  identity->control_id_ = o.control_spiffe_id;
  if (identity->control_id_.empty()) {
    const auto bundle = read_file(o.control_ca_file);
    const auto trust_domain = bundle ? tls::bundle_trust_domain(*bundle, error) : std::nullopt;
    if (!trust_domain) {
      error = "cannot tell which SPIFFE ID the control plane must present: " +
              (bundle ? o.control_ca_file + ": " + error : "cannot read " + o.control_ca_file) +
              " (give --control-spiffe-id)";
      return nullptr;
    }
    identity->control_id_ = tls::control_plane_id(*trust_domain);
  }
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  // Joins on a context of its own: the engine's does not run yet.
  asio::io_context context(1);
  std::string failure;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        std::chrono::milliseconds retry{0};
        for (std::size_t attempt = 0;; ++attempt) {
          const std::string& url = o.control_urls[attempt % o.control_urls.size()];
          bool refused = false;
          const std::string why = co_await identity->request(url, o.join_token, refused);
          if (why.empty()) co_return;
          if (refused) {
            failure = "the control plane refused the join: " + why;
            co_return;
          }
          retry = next_retry(retry);
          log::warn("cannot join yet; retrying", json::ObjectWriter().field("url", url).field("error", why).field(
                                                     "retry_ms", static_cast<int64_t>(retry.count())));
          asio::steady_timer wait(context, retry);
          co_await wait.async_wait(asio::use_awaitable);
        }
      },
      asio::detached);
  context.run();
  if (!failure.empty()) {
    error = failure;
    return nullptr;
  }
  log::info("node identity issued", json::ObjectWriter()
                                        .field("spiffe_id", identity->spiffe_id())
                                        .field("serial", identity->validity_.serial_hex)
                                        .field("expires_in_s", seconds_until(identity->not_after()))
                                        .field("control_spiffe_id", identity->control_id_));
  return identity;
}

bool NodeIdentity::load(std::string& error) {
  const auto chain = read_file(node_cert_path(options_.dir));
  if (!chain || !read_file(node_key_path(options_.dir))) {
    error = "none persisted";
    return false;
  }
  const auto validity = tls::read_certificate_validity(*chain, error);
  if (!validity) return false;
  if (validity->not_after <= Clock::now()) {
    error = "the persisted certificate expired at " + utc_text(validity->not_after);
    return false;
  }
  std::optional<tls::ClientTlsError> tls_error;
  auto context = tls::make_client_context(
      {options_.control_ca_file, node_cert_path(options_.dir), node_key_path(options_.dir)}, tls_error);
  if (!context) {
    error = tls_error->message;
    return false;
  }
  // The bundle that came with the certificate is trusted for the control plane too: after a CA rotation the
  // control plane's certificate chains to a root the out-of-band --control-ca may not hold.
  if (std::error_code ec; fs::exists(node_bundle_path(options_.dir), ec) &&
                          SSL_CTX_load_verify_locations(context->native_handle(),
                                                        node_bundle_path(options_.dir).c_str(), nullptr) != 1) {
    ERR_clear_error();
    error = node_bundle_path(options_.dir) + ": no PEM certificate";
    return false;
  }
  std::lock_guard lock(mutex_);
  control_tls_ = std::move(context);
  validity_ = *validity;
  return true;
}

NodeIdentity::Period NodeIdentity::certificate_period() const {
  std::lock_guard lock(mutex_);
  return {validity_.not_before, validity_.not_after};
}

std::shared_ptr<asio::ssl::context> NodeIdentity::control_tls() const {
  std::lock_guard lock(mutex_);
  return control_tls_;
}

bool NodeIdentity::install(const std::string& key_pem, const std::string& chain_pem, const std::string& bundle_pem,
                           std::string& error) {
  // The bundle first, then the key and certificate together: a listener that reloads on their change finds its CAs
  // already in place, and never a key without its certificate.
  if (!core::write_file_atomically(node_bundle_path(options_.dir), bundle_pem, 0644, error) ||
      !tls::install_node_keypair(options_.dir, key_pem, chain_pem, error))
    return false;
  return load(error);
}

asio::awaitable<std::string> NodeIdentity::request(const std::string& url, const std::string& token, bool& refused) {
  std::string error;
  const auto base = http::parse_base_url(url, error);
  if (!base) co_return error;
  if (!base->tls) co_return "the control plane URL must be https:// to carry certificates";
  const bool join = !token.empty();
  // A fresh key for every certificate, the join's and each renewal's: a key outlives no certificate it signed for.
  const auto csr = tls::make_svid_request(error);
  if (!csr) co_return error;
  std::shared_ptr<asio::ssl::context> context;
  if (join) {
    std::optional<tls::ClientTlsError> tls_error;
    context = tls::make_client_context({options_.control_ca_file, "", ""}, tls_error);
    if (!context) co_return tls_error->message;
  } else {
    context = control_tls();
  }
  // Named, not braced temporaries beside the co_await: GCC 12 frees those twice in a coroutine.
  http::UpstreamEndpoint endpoint;
  endpoint.host = base->host;
  endpoint.port = base->port;
  endpoint.tls = true;
  endpoint.tls_context = context;
  endpoint.peer_spiffe_id = control_id_;  // checked after the handshake, before the token or the CSR is sent
  const auto executor = co_await asio::this_coro::executor;
  http::Client client(executor, std::move(endpoint), http::ClientOptions{kRequestTimeout, 64 << 10, false});
  json::ObjectWriter body;
  body.field("csr", csr->csr_pem);
  if (join) body.field("token", token);
  http::HeaderPairs headers;
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("Accept", "application/json");
  const std::string target = base->path_prefix + "/v1/certs";
  const std::string payload = std::move(body).finish();
  const http::ClientResponse response = co_await client.request("POST", target, headers, payload);
  if (!response.complete) co_return response.error;
  const auto answer = core::strict_json::parse(response.body, error);
  if (response.status != 200) {
    refused = response.status >= 400 && response.status < 500;
    std::string message = "HTTP " + std::to_string(response.status);
    if (answer && answer->is_object())
      if (const auto* e = answer->find("error"); e && e->is_object())
        if (const auto m = e->string_member("message")) message += ": " + std::string(*m);
    co_return message;
  }
  const auto chain = answer ? answer->string_member("chain") : std::nullopt;
  const auto bundle = answer ? answer->string_member("bundle") : std::nullopt;
  if (!chain || !bundle) co_return "the answer holds no chain and bundle";
  if (!install(csr->key_pem, std::string(*chain), std::string(*bundle), error))
    co_return "cannot install the certificate: " + error;
  co_return "";
}

asio::awaitable<void> NodeIdentity::keep_renewed() {
  timer_ = std::make_unique<asio::system_timer>(co_await asio::this_coro::executor);
  std::uniform_real_distribution<double> jitter(-tls::kMaxRenewalJitter, tls::kMaxRenewalJitter);
  auto next = tls::renewal_time(validity_.not_before, validity_.not_after, jitter(random_));
  std::chrono::milliseconds retry{0};
  std::size_t url_index = 0;
  while (!stopped_) {
    timer_->expires_at(next);
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) co_return;
    const std::string& url = options_.control_urls[url_index % options_.control_urls.size()];
    bool refused = false;
    const std::string no_token;  // a renewal: the current certificate pays
    const std::string why = co_await request(url, no_token, refused);
    if (stopped_) co_return;
    if (why.empty()) {
      ++renewals_ok_;
      retry = std::chrono::milliseconds(0);
      next = tls::renewal_time(validity_.not_before, validity_.not_after, jitter(random_));
      log::info("node identity renewed", json::ObjectWriter()
                                             .field("spiffe_id", spiffe_id())
                                             .field("serial", validity_.serial_hex)
                                             .field("expires_in_s", seconds_until(validity_.not_after))
                                             .field("next_renewal_in_s", seconds_until(next)));
      continue;
    }
    ++renewals_failed_;
    ++url_index;
    retry = next_retry(retry);
    next = Clock::now() + retry;
    log::warn("cannot renew the node identity; the current certificate serves on",
              json::ObjectWriter()
                  .field("url", url)
                  .field("error", why)
                  .field("expires_in_s", seconds_until(validity_.not_after))
                  .field("retry_ms", static_cast<int64_t>(retry.count())));
  }
}

void NodeIdentity::stop() {
  stopped_ = true;
  if (timer_) timer_->cancel();
}

void NodeIdentity::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_identity_expiry_seconds", "gauge",
                     "Seconds until the node's SPIFFE certificate expires (negative once expired).");
  prometheus::sample_text(out, "tollway_identity_expiry_seconds", "", std::to_string(seconds_until(not_after())));
  prometheus::family(out, "tollway_identity_renewals_total", "counter",
                     "Renewals of the node's certificate over mTLS, by result.");
  prometheus::sample(out, "tollway_identity_renewals_total", prometheus::labels({{"result", "success"}}),
                     renewals_ok_);
  prometheus::sample(out, "tollway_identity_renewals_total", prometheus::labels({{"result", "failure"}}),
                     renewals_failed_);
}

}  // namespace tollway::proxy
