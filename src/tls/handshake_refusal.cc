#include "tls/handshake_refusal.h"

#include <cstdint>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/error.hpp>

namespace tollway::tls {
namespace {

// The SSL ex_data slot holding a marked SPIFFE refusal as (reason + 1); 0 = none.
int spiffe_refusal_slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

HandshakeRefusal from_verify_result(long result) {
  switch (result) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return HandshakeRefusal::CertificateExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return HandshakeRefusal::CertificateNotYetValid;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return HandshakeRefusal::UnknownCa;
    default:
      return HandshakeRefusal::Other;
  }
}

}  // namespace

std::string_view refusal_name(HandshakeRefusal reason) {
  switch (reason) {
    case HandshakeRefusal::NoClientCertificate:
      return "no_client_certificate";
    case HandshakeRefusal::UnknownCa:
      return "unknown_ca";
    case HandshakeRefusal::CertificateExpired:
      return "certificate_expired";
    case HandshakeRefusal::CertificateNotYetValid:
      return "certificate_not_yet_valid";
    case HandshakeRefusal::BadSpiffeId:
      return "bad_spiffe_id";
    case HandshakeRefusal::OtherTrustDomain:
      return "other_trust_domain";
    case HandshakeRefusal::Plaintext:
      return "plaintext";
    case HandshakeRefusal::Timeout:
      return "timeout";
    case HandshakeRefusal::Other:
      break;
  }
  return "other";
}

void mark_spiffe_refusal(SSL* ssl, HandshakeRefusal reason) {
  SSL_set_ex_data(
      ssl, spiffe_refusal_slot(),
      reinterpret_cast<void*>(static_cast<std::intptr_t>(reason) + 1));  // NOLINT: a tag, not a pointer
}

HandshakeRefusal classify_handshake_failure(SSL* ssl, const boost::system::error_code& ec, bool timed_out) {
  if (timed_out) return HandshakeRefusal::Timeout;
  if (ssl != nullptr) {
    if (const auto marked = reinterpret_cast<std::intptr_t>(SSL_get_ex_data(ssl, spiffe_refusal_slot()));
        marked != 0)
      return static_cast<HandshakeRefusal>(marked - 1);
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK)
      return from_verify_result(verify);
  }
  if (ec.category() != boost::asio::error::get_ssl_category()) return HandshakeRefusal::Other;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return HandshakeRefusal::NoClientCertificate;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
      return HandshakeRefusal::Plaintext;
    default:
      return HandshakeRefusal::Other;
  }
}

}  // namespace tollway::tls
