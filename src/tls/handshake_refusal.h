// HandshakeRefusal: why a server-side TLS handshake on one of tollway's listeners failed, as one of a small
// fixed set of reasons (the `reason` label of tollway_tls_handshake_failures_total), read from OpenSSL's
// verification result, its error queue and the SPIFFE check a listener with a trust domain makes. It only
// classifies: it never decides whether a handshake fails, and a reason never carries certificate content.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <openssl/types.h>  // SSL

#include <boost/system/error_code.hpp>

namespace tollway::tls {

enum class HandshakeRefusal {
  NoClientCertificate,  // the listener requires a client certificate and none was sent
  UnknownCa,            // the client certificate does not chain to client_ca_file (or its signature is bad)
  CertificateExpired,
  CertificateNotYetValid,
  BadSpiffeId,       // trust_domain set: no SPIFFE ID (zero or two URI SANs, or an invalid one)
  OtherTrustDomain,  // trust_domain set: a SPIFFE ID in another trust domain
  Plaintext,         // the first bytes were not a TLS record (e.g. an HTTP request)
  Timeout,           // not finished within timeouts.header_read
  Other,
};
inline constexpr std::size_t kHandshakeRefusalCount = 9;

// The label value: "no_client_certificate", "unknown_ca", ..., "other".
std::string_view refusal_name(HandshakeRefusal reason);
inline constexpr std::array<HandshakeRefusal, kHandshakeRefusalCount> kAllHandshakeRefusals = {
    HandshakeRefusal::NoClientCertificate,
    HandshakeRefusal::UnknownCa,
    HandshakeRefusal::CertificateExpired,
    HandshakeRefusal::CertificateNotYetValid,
    HandshakeRefusal::BadSpiffeId,
    HandshakeRefusal::OtherTrustDomain,
    HandshakeRefusal::Plaintext,
    HandshakeRefusal::Timeout,
    HandshakeRefusal::Other};

// Records on the connection that the listener's own SPIFFE check refused the peer's certificate (called from
// the verify callback, before OpenSSL fails the handshake).
void mark_spiffe_refusal(SSL* ssl, HandshakeRefusal reason);

// Why the handshake of `ssl` failed with `ec`; `timed_out` when the caller's deadline cancelled it.
HandshakeRefusal classify_handshake_failure(SSL* ssl, const boost::system::error_code& ec, bool timed_out);

}  // namespace tollway::tls
