// Server-side TLS for tollway's own listeners (the API listener and the admin listener): the context a
// listener's new connections handshake with — TLS 1.2 or later, forward-secret AEAD ciphers, the certificate
// chain and its key checked to match when loaded; with a client CA, client certificates are requested and
// verified (and refused when missing if required) — and the identity read from a verified client certificate
// (subject, SANs, SPIFFE ID); with a trust domain, a client certificate must be an X.509-SVID of it. A context is immutable once built: rotation builds a new one from the files.
// It never accepts an unverified client certificate as an identity and never prompts for a passphrase.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/types.h>  // SSL, X509

#include "core/file_stamp.h"

namespace boost::asio::ssl {
class context;
}

namespace tollway::tls {

struct ServerTlsFiles {
  std::string cert_file;             // PEM certificate chain presented to clients, leaf first
  std::string key_file;              // the unencrypted PEM private key of the leaf
  std::string client_ca_file;        // PEM CAs that may sign client certificates; "" = none are requested
  bool require_client_cert = false;  // refuse a handshake without a client certificate (needs client_ca_file)
  // "" = any verified client certificate; else a client certificate must be an X.509-SVID of this SPIFFE trust
  // domain, or the handshake fails (needs client_ca_file; reasons in tls/handshake_refusal.h)
  std::string trust_domain;
  bool operator==(const ServerTlsFiles&) const = default;
};

struct ServerTlsError {
  enum File { Cert, Key, ClientCa, TrustDomain } file;  // which setting is wrong (the config key an error is reported at)
  std::string message;
};

// A listener's TLS as loaded: the context for new connections and the stamps of the files it was read from.
struct ServerTls {
  ServerTlsFiles files;
  std::vector<core::FileStamp> stamps;  // taken before the files were read: a later write shows as a change
  std::shared_ptr<boost::asio::ssl::context> context;
};

// The stamps of cert_file, key_file and client_ca_file (when set), in that order.
std::vector<core::FileStamp> stamp_files(const ServerTlsFiles& files);

// Null with `error` set when a file is unreadable, holds no usable PEM data, the key does not match the
// certificate, require_client_cert or trust_domain is set without client_ca_file, or the trust domain is invalid.
std::shared_ptr<const ServerTls> load_server_tls(const ServerTlsFiles& files,
                                                 std::optional<ServerTlsError>& error);

// Who the peer's certificate says it is. Strings are as the certificate holds them (logs must escape them).
struct PeerIdentity {
  std::string subject;                    // RFC 2253, e.g. "CN=agent-a,O=Example"
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> uris;          // subjectAltName uniformResourceIdentifier entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries, as text
  // The SPIFFE ID when the certificate is shaped as an X.509-SVID: exactly one URI SAN, a valid SPIFFE ID
  // (tls/spiffe_id.h). Otherwise "", and when a spiffe: URI is present, spiffe_id_error says why it was not taken.
  std::string spiffe_id;
  std::string spiffe_id_error;
};

PeerIdentity identity_of(X509* certificate);

// After a successful server-side handshake: the client's certificate when it sent one and it verified,
// nullopt otherwise.
std::optional<PeerIdentity> verified_peer_identity(SSL* ssl);

}  // namespace tollway::tls
