#include "control/cert_api.h"

#include "control/api_response.h"
#include "core/json.h"
#include "core/prometheus_text.h"
#include "core/log.h"
#include "core/strict_json.h"
#include "tls/server_context.h"

namespace tollway::control {

using proxy::AdminResponse;

AdminResponse CertApi::certs(const proxy::AdminRequest& request) {
  std::string parse_error;
  const auto body = core::strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    return refused(400, "invalid_json",
                          "the body must be a JSON object {csr, token?}" +
                              (parse_error.empty() ? std::string() : ": " + parse_error));
  for (const auto& [key, value] : body->members()) {
    if (key != "csr" && key != "token")
      return refused(400, "unknown_field", "unknown field \"" + key + "\" (allowed: csr, token)");
    if (!value.is_string()) return refused(400, "invalid_field", "field \"" + key + "\" must be a string");
  }
  const auto csr = body->string_member("csr");
  const auto token = body->string_member("token");
  if (!csr) return refused(400, "missing_field", "csr is required");
  if (token) return issue_for_token(*csr, *token);
  if (request.peer_certificate) return renew(*csr, request.peer_certificate);
  log::warn("certificate refused", json::ObjectWriter().field("reason", "no join token and no client certificate"));
  return refused(401, "no_credential",
                        "a join token, or a client certificate of this trust domain (renewal over mTLS), is required");
}

AdminResponse CertApi::issue_for_token(std::string_view csr, std::string_view token) {
  const auto now = IdentityStore::Clock::now();
  const IdentityStore::TokenCheck paid_by = store_.check(token, now);
  // A refusal is logged with the first digits of the token's hash (as `tollway control certs` shows them), never
  // the token.
  const auto refuse = [&](int status, std::string_view code, const std::string& reason) {
    log::warn("certificate refused", json::ObjectWriter()
                                         .field("reason", reason)
                                         .field("token_sha256", paid_by.token_hash.substr(0, 12))
                                         .field("spiffe_id", paid_by.identity ? paid_by.identity->text() : ""));
    return refused(status, code, reason);
  };
  if (!paid_by.identity) return refuse(401, "invalid_token", paid_by.refusal);
  std::string error;
  const auto svid = ca_->issue(csr, *paid_by.identity, svid_lifetime_, error);
  if (!svid) return refuse(400, "invalid_csr", error);
  const IdentityStore::Issuance issued{paid_by.identity->text(), svid->serial_hex, svid->not_after};
  if (!store_.redeem(paid_by.token_hash, issued, now, error)) return refuse(401, "invalid_token", error);
  issued_by_join_.fetch_add(1, std::memory_order_relaxed);
  log::info("certificate issued", json::ObjectWriter()
                                      .field("spiffe_id", issued.identity)
                                      .field("serial", issued.serial_hex)
                                      .field("not_after", utc_text(svid->not_after)));
  return svid_response(*svid, issued.identity);
}

AdminResponse CertApi::renew(std::string_view csr, X509* current) {
  const tls::PeerIdentity peer = tls::identity_of(current);
  const auto refuse = [&](int status, std::string_view code, const std::string& reason) {
    log::warn("renewal refused", json::ObjectWriter().field("reason", reason).field("spiffe_id", peer.spiffe_id));
    return refused(status, code, reason);
  };
  if (peer.spiffe_id.empty())
    return refuse(401, "invalid_certificate",
                  "the client certificate is not an X.509-SVID" +
                      (peer.spiffe_id_error.empty() ? std::string() : ": " + peer.spiffe_id_error));
  const auto identity = tls::SpiffeId::parse(peer.spiffe_id);
  if (!identity || identity->trust_domain() != ca_->trust_domain())
    return refuse(401, "invalid_certificate",
                  "the client certificate's SPIFFE ID " + peer.spiffe_id + " is not in trust domain " +
                      ca_->trust_domain());
  if (const std::string problem = ca_->check_issued_here(current); !problem.empty())
    return refuse(401, "invalid_certificate", problem);
  std::string error;
  const auto svid = ca_->issue(csr, *identity, svid_lifetime_, error);
  if (!svid) return refuse(400, "invalid_csr", error);
  const auto now = IdentityStore::Clock::now();
  const IdentityStore::Issuance issued{identity->text(), svid->serial_hex, svid->not_after};
  if (!store_.record_renewal(issued, now, error)) return refuse(500, "audit_failed", error);
  issued_by_renewal_.fetch_add(1, std::memory_order_relaxed);
  log::info("certificate renewed", json::ObjectWriter()
                                       .field("spiffe_id", issued.identity)
                                       .field("serial", issued.serial_hex)
                                       .field("not_after", utc_text(svid->not_after)));
  return svid_response(*svid, issued.identity);
}

AdminResponse CertApi::refused(int status, std::string_view code, const std::string& message) {
  {
    std::lock_guard lock(refusals_mutex_);
    ++refusals_[std::string(code)];
  }
  return error_response(status, code, message);
}

void CertApi::render_metrics(std::string& out) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_control_certificates_issued_total", "counter",
                     "X.509-SVIDs the CA issued, by how the caller paid: a join token or its current certificate.");
  prometheus::sample(out, "tollway_control_certificates_issued_total", prometheus::labels({{"kind", "join"}}),
                     issued_by_join_.load());
  prometheus::sample(out, "tollway_control_certificates_issued_total", prometheus::labels({{"kind", "renewal"}}),
                     issued_by_renewal_.load());
  prometheus::family(out, "tollway_control_certificate_refusals_total", "counter",
                     "POST /v1/certs requests refused, nothing issued, by the error code answered.");
  {
    std::lock_guard lock(refusals_mutex_);
    for (const auto& [code, n] : refusals_)
      prometheus::sample(out, "tollway_control_certificate_refusals_total", prometheus::labels({{"code", code}}), n);
  }
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(ca_->expires_at() - CertificateAuthority::Clock::now());
  prometheus::family(out, "tollway_control_ca_expiry_seconds", "gauge",
                     "Seconds until the CA's signing certificate expires (SVIDs never outlive it).");
  prometheus::sample_real(out, "tollway_control_ca_expiry_seconds", "", static_cast<double>(left.count()));
}

AdminResponse CertApi::svid_response(const CertificateAuthority::Svid& svid, const std::string& identity) const {
  json::ObjectWriter w;
  w.field("certificate", svid.certificate_pem)
      .field("chain", svid.chain_pem)
      .field("bundle", ca_->bundle_pem())
      .field("spiffe_id", identity)
      .field("serial", svid.serial_hex)
      .field("not_after", utc_text(svid.not_after));
  return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

AdminResponse CertApi::bundle(const proxy::AdminRequest& request) const {
  const std::string format = query_param(request.query, "format").value_or("pem");
  if (format == "pem") return AdminResponse{200, "application/x-pem-file", ca_->bundle_pem(), {}};
  if (format == "jwks") return AdminResponse{200, "application/json", ca_->bundle_jwks() + "\n", {}};
  return error_response(400, "invalid_format", "format must be pem (the default) or jwks");
}

}  // namespace tollway::control
