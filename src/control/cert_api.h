// CertApi: the control plane's certificate endpoints — POST /v1/certs (a CSR and a join token in, an X.509-SVID
// for the token's identity out; or, renewal over mTLS, a CSR and no token from a caller whose verified client
// certificate this CA issued and which is valid now: an SVID for that certificate's SPIFFE ID) and GET /v1/bundle
// (the trust bundle, PEM or ?format=jwks; public). The identity is the token's or the current certificate's,
// never anything the CSR asks for. A token is consumed only by a certificate
// actually issued: a refused request (bad JSON, bad CSR) leaves it usable. It never logs or echoes a token.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "control/ca/certificate_authority.h"
#include "control/ca/identity_store.h"
#include "proxy/admin_listener.h"

namespace tollway::control {

class CertApi {
 public:
  // `ca` is read at every request: a rotation replaces the object it holds. It must outlive this CertApi.
  CertApi(const std::shared_ptr<const CertificateAuthority>& ca, IdentityStore& store,
          std::chrono::seconds svid_lifetime)
      : ca_(ca), store_(store), svid_lifetime_(svid_lifetime) {}

  proxy::AdminResponse certs(const proxy::AdminRequest& request);
  proxy::AdminResponse bundle(const proxy::AdminRequest& request) const;
  // tollway_control_certificates_issued_total{kind}, tollway_control_certificate_refusals_total{code} and
  // tollway_control_ca_expiry_seconds.
  void render_metrics(std::string& out) const;

 private:
  proxy::AdminResponse issue_for_token(std::string_view csr, std::string_view token);
  proxy::AdminResponse renew(std::string_view csr, X509* current);
  proxy::AdminResponse svid_response(const CertificateAuthority::Svid& svid, const std::string& identity) const;
  // The refusal as the caller sees it, counted by code.
  proxy::AdminResponse refused(int status, std::string_view code, const std::string& message);

  const std::shared_ptr<const CertificateAuthority>& ca_;
  IdentityStore& store_;
  std::chrono::seconds svid_lifetime_;
  std::atomic<uint64_t> issued_by_join_{0}, issued_by_renewal_{0};
  mutable std::mutex refusals_mutex_;
  std::map<std::string, uint64_t, std::less<>> refusals_;  // by code
};

}  // namespace tollway::control
