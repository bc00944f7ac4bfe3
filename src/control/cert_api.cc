#include "control/cert_api.h"

#include "control/api_response.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strict_json.h"

namespace tollway::control {

using proxy::AdminResponse;

AdminResponse CertApi::certs(const proxy::AdminRequest& request) {
  std::string parse_error;
  const auto body = core::strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    return error_response(400, "invalid_json",
                          "the body must be a JSON object {csr, token}" +
                              (parse_error.empty() ? std::string() : ": " + parse_error));
  for (const auto& [key, value] : body->members()) {
    if (key != "csr" && key != "token")
      return error_response(400, "unknown_field", "unknown field \"" + key + "\" (allowed: csr, token)");
    if (!value.is_string()) return error_response(400, "invalid_field", "field \"" + key + "\" must be a string");
  }
  const auto csr = body->string_member("csr");
  const auto token = body->string_member("token");
  if (!csr || !token) return error_response(400, "missing_field", "csr and token are required");

  const auto now = IdentityStore::Clock::now();
  const IdentityStore::TokenCheck paid_by = store_.check(*token, now);
  // A refusal is logged with the first digits of the token's hash (as `tollway control certs` shows them), never
  // the token.
  const auto refuse = [&](int status, std::string_view code, const std::string& reason) {
    log::warn("certificate refused", json::ObjectWriter()
                                         .field("reason", reason)
                                         .field("token_sha256", paid_by.token_hash.substr(0, 12))
                                         .field("spiffe_id", paid_by.identity ? paid_by.identity->text() : ""));
    return error_response(status, code, reason);
  };
  if (!paid_by.identity) return refuse(401, "invalid_token", paid_by.refusal);
  std::string error;
  const auto svid = ca_.issue(*csr, *paid_by.identity, svid_lifetime_, error);
  if (!svid) return refuse(400, "invalid_csr", error);
  const IdentityStore::Issuance issued{paid_by.identity->text(), svid->serial_hex, svid->not_after};
  if (!store_.redeem(paid_by.token_hash, issued, now, error)) return refuse(401, "invalid_token", error);
  log::info("certificate issued", json::ObjectWriter()
                                      .field("spiffe_id", issued.identity)
                                      .field("serial", issued.serial_hex)
                                      .field("not_after", utc_text(svid->not_after)));
  json::ObjectWriter w;
  w.field("certificate", svid->certificate_pem)
      .field("chain", svid->chain_pem)
      .field("bundle", ca_.bundle_pem())
      .field("spiffe_id", issued.identity)
      .field("serial", svid->serial_hex)
      .field("not_after", utc_text(svid->not_after));
  return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

AdminResponse CertApi::bundle(const proxy::AdminRequest& request) const {
  const std::string format = query_param(request.query, "format").value_or("pem");
  if (format == "pem") return AdminResponse{200, "application/x-pem-file", ca_.bundle_pem(), {}};
  if (format == "jwks") return AdminResponse{200, "application/json", ca_.bundle_jwks(kBundleSequence) + "\n", {}};
  return error_response(400, "invalid_format", "format must be pem (the default) or jwks");
}

}  // namespace tollway::control
