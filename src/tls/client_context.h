// Client-side TLS on OpenSSL for every outgoing https connection (providers, the OTLP collector): a context
// that verifies the peer's chain against a CA bundle (or the system store) and, for mTLS, presents a
// certificate; and the per-connection peer-name check (SNI + host name or IP address). Config validators
// build the context once at load, so a bad file is a config error, never a failure in the middle of an
// export. It never disables verification and never prompts for a key's passphrase.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <openssl/ssl.h>

namespace boost::asio::ssl {
class context;
}

namespace tollway::tls {

struct ClientTlsFiles {
  std::string ca_file;    // PEM CA certificates that may sign the peer's chain; "" = the system trust store
  std::string cert_file;  // PEM certificate (chain) presented to the peer; "" = none (no mTLS)
  std::string key_file;   // the unencrypted PEM private key of cert_file; set exactly when cert_file is
};

struct ClientTlsError {
  enum File { Ca, Cert, Key } file;  // which setting is wrong (the config key an error is reported at)
  std::string message;
};

// TLS 1.2 or later, peer verification on. nullptr with `error` set when a file is unreadable, holds no usable
// PEM data, or the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_client_context(const ClientTlsFiles& files,
                                                               std::optional<ClientTlsError>& error);

// Before the handshake: the name the peer's certificate must carry. A host name is sent as SNI and matched
// against the certificate's DNS names; an IP literal (no SNI, RFC 6066) against its IP addresses. False when
// OpenSSL refuses the name.
bool expect_peer_name(SSL* ssl, const std::string& host);

// Why a finished handshake failed, for logs and errors: the verification result when the chain or name was
// rejected, else OpenSSL's queued error (cleared).
std::string handshake_failure_reason(SSL* ssl);

}  // namespace tollway::tls
