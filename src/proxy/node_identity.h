// NodeIdentity: a node's SPIFFE identity, held by the node for any role. A new P-256 key is generated here for every
// certificate and never leaves the node (DIR/svid.key, 0600); the first certificate is bought from the control plane
// with a one-time join token (POST /v1/certs), later ones are renewals over mTLS (the current certificate as the
// client certificate, no token, a CSR over a fresh key) at half the lifetime ± 10 % jitter, retried with backoff
// while no control plane answers. The key and the certificate chain (DIR/svid.pem) are replaced together
// (tls/node_keypair_files.h) and the trust bundle (DIR/bundle.pem) atomically, so a listener watching them never
// reads half a file or a key without its certificate; a node restarted with a valid persisted certificate serves
// without the control plane (static stability). The control plane is verified against --control-ca and the bundle
// received with the certificate (so a rotated root is trusted once the node holds it), and must present
// the expected SPIFFE ID (--control-spiffe-id, by default spiffe://TRUST_DOMAIN/tollway/control): a server that
// chains to the bundle but is another workload is refused before anything, the join token included, is sent. It
// never sends or logs its key, never renews with a token, and never deletes a certificate it holds.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "tls/renewal_schedule.h"

namespace tollway::proxy {

struct NodeIdentityOptions {
  std::string dir;                        // --identity-dir
  std::string join_token;                 // --join-token-file's content; "" = only a persisted certificate
  std::string control_ca_file;            // --control-ca: the bundle that verifies the control plane
  std::vector<std::string> control_urls;  // the control planes' base URLs, tried in turn
  // --control-spiffe-id: the SPIFFE ID the control plane must present; "" = spiffe://TD/tollway/control, TD the
  // trust domain of the node's certificate (before the first one: the one the --control-ca roots name)
  std::string control_spiffe_id;
};

class NodeIdentity {
 public:
  using Clock = std::chrono::system_clock;

  // At start, blocking: the certificate persisted in the directory when it is valid now (logging how long it has
  // left), else a join with the token, retried with backoff while no control plane answers. Null with `error` when
  // there is neither a valid certificate nor a token, or a control plane refuses the join (a 4xx: the token is
  // unknown, used, expired or for another trust domain).
  static std::unique_ptr<NodeIdentity> open(NodeIdentityOptions options, std::string& error);

  // The client TLS for the control plane: verifies it against --control-ca and DIR/bundle.pem and presents the
  // current SVID. The control plane authenticates the node by this certificate alone.
  std::shared_ptr<boost::asio::ssl::context> control_tls() const;
  // Renews at half the lifetime ± 10 % until stop(); runs on the engine's control context.
  boost::asio::awaitable<void> keep_renewed();
  void stop();
  // tollway_identity_expiry_seconds and tollway_identity_renewals_total{result}.
  void render_metrics(std::string& out) const;
  const std::string& spiffe_id() const { return validity_.uri_san; }
  // The SPIFFE ID required of the control plane's certificate.
  const std::string& control_spiffe_id() const { return control_id_; }
  Clock::time_point not_after() const { return validity_.not_after; }
  // The current certificate's validity period, read under the lock (a renewal replaces it): what the node tells its
  // control plane so the fleet can show when it expires.
  struct Period {
    Clock::time_point not_before, not_after;
  };
  Period certificate_period() const;

 private:
  explicit NodeIdentity(NodeIdentityOptions options);
  // Reads the persisted files: true when the certificate is valid now and loads with its key.
  bool load(std::string& error);
  // One POST /v1/certs to `url` (with `token` for a join, over mTLS for a renewal) with a CSR over a new key;
  // installs the answer with that key. "" on success, else why not; `refused` is set when the control plane
  // answered with a 4xx.
  boost::asio::awaitable<std::string> request(const std::string& url, const std::string& token, bool& refused);
  bool install(const std::string& key_pem, const std::string& chain_pem, const std::string& bundle_pem,
               std::string& error);

  NodeIdentityOptions options_;
  std::string control_id_;
  mutable std::mutex mutex_;  // control_tls_ is read by the control client on its own thread at start
  std::shared_ptr<boost::asio::ssl::context> control_tls_;
  tls::CertificateValidity validity_;
  std::mt19937_64 random_;
  std::unique_ptr<boost::asio::system_timer> timer_;
  bool stopped_ = false;
  uint64_t renewals_ok_ = 0;
  uint64_t renewals_failed_ = 0;
};

}  // namespace tollway::proxy
