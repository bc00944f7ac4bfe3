// ControlListenerTls: the control plane's own HTTPS identity (`tollway control --tls`) — an X.509-SVID for
// spiffe://TRUST_DOMAIN/tollway/control with the listener's DNS and IP names as extra SANs, issued by the control
// plane's CA (by the oldest root still trusted while a rotation is under way, so nodes that do not hold the new
// root yet can still reach the control plane) over a P-256 key generated here, written to STATE_DIR/tls/ (control.key 0600, control.pem, bundle.pem;
// each atomically), and loaded as the listener's TLS: client certificates requested but optional, and verified
// against the bundle when sent. Renewed at half its lifetime. It never issues for another identity and never
// sends its key anywhere.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/ca/certificate_authority.h"
#include "tls/server_context.h"

namespace tollway::control {

class ControlListenerTls {
 public:
  using Clock = std::chrono::system_clock;
  // `ca` is read at every issue(): a rotation replaces the object it holds. It must outlive this object.
  ControlListenerTls(const std::shared_ptr<const CertificateAuthority>& ca, const std::string& state_dir,
                     std::vector<std::string> host_names, std::chrono::seconds lifetime);

  // A new key and certificate, written and loaded: the TLS for new connections, or null with `error` (the
  // previous files, if any, stay as they were).
  std::shared_ptr<const tls::ServerTls> issue(std::string& error);
  // When the certificate issue() made last is due for renewal (half its lifetime).
  Clock::time_point renew_at() const { return renew_at_; }
  Clock::time_point not_after() const { return not_after_; }
  const std::string& spiffe_id() const { return spiffe_id_; }

 private:
  const std::shared_ptr<const CertificateAuthority>& ca_;
  std::string dir_;
  std::vector<std::string> host_names_;
  std::chrono::seconds lifetime_;
  std::string spiffe_id_;
  Clock::time_point renew_at_{};
  Clock::time_point not_after_{};
};

}  // namespace tollway::control
